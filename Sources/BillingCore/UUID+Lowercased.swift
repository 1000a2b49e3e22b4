import Foundation

extension UUID {
    /// The lowercase form the API, the acquirer and the journal see.
    public var lowercased: String { uuidString.lowercased() }
}
