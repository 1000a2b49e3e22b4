import Foundation

/// A request field for CloudPayments' API. Its client libraries send amounts and codes as JSON
/// numbers, so we do too; amounts go from exact decimal text to a JSON number, never via Double.
enum CloudPaymentsField: Sendable {
    case text(String)
    case decimal(String)
    case integer(Int)
    /// An integer the caller holds as text (transaction ids are text in our tables).
    case integerText(String)

    var jsonValue: Any {
        switch self {
        case .text(let text): text
        case .decimal(let text): NSDecimalNumber(string: text, locale: Locale(identifier: "en_US_POSIX"))
        case .integer(let number): NSNumber(value: number)
        case .integerText(let text): Int64(text).map { NSNumber(value: $0) } ?? text as Any
        }
    }

    /// The value as the acquiring log shows it.
    var text: String {
        switch self {
        case .text(let text), .decimal(let text), .integerText(let text): text
        case .integer(let number): String(number)
        }
    }
}
