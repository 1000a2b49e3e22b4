import PostgresNIO

extension PostgresBindings {
    /// Binds a value (NULL for nil) and returns its placeholder, for statements whose shape
    /// depends on the data, like multi-row VALUES lists and optional CTEs.
    mutating func placeholder(for value: (any PostgresEncodable & Sendable)?) throws -> String {
        if let value { try append(value) } else { appendNull() }
        return "$\(count)"
    }
}
