import Foundation

/// `application/x-www-form-urlencoded` both ways, with the exact bytes under our control because notifications are signed over them.
enum FormURLEncoding {
    /// Encodes as CloudPayments' .NET service does (`HttpUtility.UrlEncode`): UTF-8, a space as `+`, every byte outside
    /// `A-Z a-z 0-9 - _ . ! * ( )` as `%xx` in lowercase hex. Merchants verify `Content-HMAC` over these very bytes,
    /// so a verifier that re-encodes instead of using the raw body is caught here as it would be in production.
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

    private static let hexDigits = Array("0123456789abcdef")

    private static func percentEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "*"),
                 UInt8(ascii: "("), UInt8(ascii: ")"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                encoded += "+"
            default:
                encoded += "%"
                encoded.append(hexDigits[Int(byte >> 4)])
                encoded.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return encoded
    }

    private static func percentDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
