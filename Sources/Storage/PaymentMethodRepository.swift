import BillingCore
import Foundation
import PostgresNIO

/// A saved card as shown to its owner; the token stays in the database.
public struct SavedCard: Sendable, Hashable {
    public var id: UUID
    public var acquirer: String
    /// The last four digits; the rest of the number is never shown.
    public var lastFour: String
    public var brand: String?
    public var expiryMonth: Int?
    public var expiryYear: Int?

    /// "Visa •••• 4242".
    public var label: String {
        [brand, "•••• " + lastFour].compactMap { $0 }.joined(separator: " ")
    }
}

/// Saved cards (acquirer tokens) per viewer.
public struct PaymentMethodRepository: Sendable {
    public init() {}

    /// The viewer's default card (the last one a payment saved) first, then the newest: the
    /// order renewals choose a card in, and the account shows them in.
    private static let defaultFirst = (
        join: "LEFT JOIN customers c ON c.user_id = m.user_id AND c.default_payment_method_id = m.id",
        order: "ORDER BY c.user_id IS NULL, m.created_at DESC"
    )

    /// The viewer's cards, the one renewals charge (`chargeable`) first, then the newest.
    public func cards(userID: UUID, on connection: PostgresConnection) async throws -> [SavedCard] {
        var cards: [SavedCard] = []
        let rows = try await connection.query("""
            SELECT m.id, m.acquirer, m.card_last_four, m.card_brand, m.exp_month, m.exp_year
            FROM payment_methods m
            \(unescaped: Self.defaultFirst.join)
            WHERE m.user_id = \(userID) AND NOT m.revoked
            \(unescaped: Self.defaultFirst.order)
            """, logger: connection.logger)
        for try await (id, acquirer, lastFour, brand, month, year)
            in rows.decode((UUID, String, String?, String?, Int?, Int?).self) {
            cards.append(SavedCard(id: id, acquirer: acquirer, lastFour: lastFour ?? "????", brand: brand, expiryMonth: month, expiryYear: year))
        }
        return cards
    }

    /// The card a merchant-initiated charge uses: the viewer's default (the last one a payment
    /// saved), else their newest; nil when they have none.
    public func chargeable(userID: UUID, on connection: PostgresConnection) async throws -> (id: UUID, acquirer: String, token: String)? {
        for try await card in try await connection.query("""
            SELECT m.id, m.acquirer, m.token FROM payment_methods m
            \(unescaped: Self.defaultFirst.join)
            WHERE m.user_id = \(userID) AND NOT m.revoked
            \(unescaped: Self.defaultFirst.order) LIMIT 1
            """, logger: connection.logger).decode((UUID, String, String).self) {
            return card
        }
        return nil
    }

    /// The token of one of the viewer's own cards, for charging it.
    public func token(methodID: UUID, userID: UUID, on connection: PostgresConnection) async throws -> String? {
        for try await token in try await connection.query(
            "SELECT token FROM payment_methods WHERE id = \(methodID) AND user_id = \(userID) AND NOT revoked",
            logger: connection.logger
        ).decode(String.self) {
            return token
        }
        return nil
    }
}
