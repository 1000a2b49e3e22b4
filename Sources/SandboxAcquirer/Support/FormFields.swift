/// Decoded form or query parameters, looked up by exact name; a repeated name keeps its last value.
struct FormFields: Sendable {
    let pairs: [(key: String, value: String)]

    init(encoded text: String) {
        pairs = FormURLEncoding.decode(text)
    }

    /// The value, or nil when the field is absent or empty: a browser sends an empty input as `name=`.
    subscript(_ name: String) -> String? {
        guard let value = pairs.last(where: { $0.key == name })?.value, !value.isEmpty else { return nil }
        return value
    }
}
