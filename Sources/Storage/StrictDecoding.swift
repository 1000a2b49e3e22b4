import BillingCore
import PostgresNIO

/// A value in the database that this build does not know: an error, never a silent default,
/// because guessing a status or a currency is how money goes missing.
public struct UnknownDatabaseValue: Error, CustomStringConvertible {
    public var column: String
    public var value: String
    public var description: String { "unknown value \"\(value)\" in \(column)" }
}

extension PostgresRandomAccessRow {
    /// A raw-representable value of a text column, or `UnknownDatabaseValue`.
    func decodeKnown<Value: RawRepresentable>(_ column: String, as type: Value.Type = Value.self) throws -> Value where Value.RawValue == String {
        let raw = try self[column].decode(String.self)
        guard let value = Value(rawValue: raw) else { throw UnknownDatabaseValue(column: column, value: raw) }
        return value
    }

    /// An amount and the currency in `currencyColumn`.
    func decodeMoney(_ amountColumn: String, currencyColumn: String = "currency") throws -> Money {
        Money(amount: try self[amountColumn].decode(Int64.self), currency: try decodeKnown(currencyColumn, as: Currency.self))
    }

    /// A decline from a code and a message column; nil when the code is NULL.
    func decodeDecline(code codeColumn: String, message messageColumn: String) throws -> Decline? {
        guard let code = try self[codeColumn].decode(Int?.self) else { return nil }
        return Decline(code: code, message: try self[messageColumn].decode(String?.self) ?? "")
    }

    /// Card mask parts; nil when the acquirer reported none.
    func decodeCard(prefix: String) throws -> CardDetails? {
        guard let lastFour = try self[prefix + "last_four"].decode(String?.self) else { return nil }
        return CardDetails(firstSix: try self[prefix + "first_six"].decode(String?.self) ?? "", lastFour: lastFour, brand: try self[prefix + "brand"].decode(String?.self), expiryMonth: nil, expiryYear: nil)
    }
}
