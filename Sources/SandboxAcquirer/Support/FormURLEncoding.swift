import Foundation

/// `application/x-www-form-urlencoded` both ways, with the exact bytes under our control because notifications are signed over them.
enum FormURLEncoding {
    /// Percent-encodes everything but RFC 3986 unreserved characters, so a space is always `%20`, never `+`.
    static func encode(_ fields: [(key: String, value: String)]) -> String {
        fields.map { "\(percentEncode($0.key))=\(percentEncode($0.value))" }.joined(separator: "&")
    }

    /// Decodes a form body or query string; accepts both `+` and `%20` for a space, as browsers send the former.
    static func decode(_ text: String) -> [(key: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count == 2 ? percentDecode(parts[1]) : ""
            return (percentDecode(parts[0]), value)
        }
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    private static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static func percentDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
