import BillingCore
import Foundation
import PostgresNIO

/// A paid invoice touches three tables: the invoice, the subscription it pays for, and the card
/// it saves. Locking and writing them together keeps a payment to two round trips, which is what
/// a notification's cost is made of (see docs/testing.md).
public struct PaymentRepository: Sendable {
    public init() {}

    /// What a payment needs, with the invoice and its subscription locked.
    public struct Locked: Sendable {
        public var invoice: Invoice
        public var subscription: Subscription
        /// How many months the invoice's plan buys.
        public var periodMonths: Int
    }

    /// A card the acquirer tokenised with this payment.
    public struct CardToSave: Sendable {
        public var acquirer: String
        public var token: String
        public var card: CardDetails?

        public init(acquirer: String, token: String, card: CardDetails?) {
            self.acquirer = acquirer
            self.token = token
            self.card = card
        }
    }

    public func lockForPayment(invoiceID: UUID, on connection: PostgresConnection) async throws -> Locked? {
        let rows = try await connection.query("""
            SELECT i.id, i.user_id, i.subscription_id, i.plan_id, i.kind, i.amount, i.currency, i.status, i.acquirer,
                   i.acquirer_transaction_id, i.payment_method_id, i.period_start, i.period_end,
                   i.failure_code, i.failure_message, i.email, i.created_at, i.paid_at, i.paid_attempt_id,
                   s.status AS subscription_status, s.plan_id AS subscription_plan_id,
                   s.current_period_start, s.current_period_end, s.auto_renew, s.cancel_at_period_end, s.billing_anchor, s.grace_until,
                   p.period_months
            FROM invoices i
            JOIN subscriptions s ON s.id = i.subscription_id
            JOIN plans p ON p.id = i.plan_id
            WHERE i.id = \(invoiceID)
            -- The invoice first, then its subscription: checkout locks them in the same order.
            FOR UPDATE OF i, s
            """, logger: connection.logger)
        for try await row in rows {
            let cells = row.makeRandomAccess()
            let invoice = try InvoiceRepository.invoice(from: cells)
            let start = try cells["current_period_start"].decode(Date?.self)
            let end = try cells["current_period_end"].decode(Date?.self)
            let subscription = Subscription(
                id: invoice.subscriptionID, userID: invoice.userID,
                planID: try cells["subscription_plan_id"].decode(UUID.self),
                status: try cells.decodeKnown("subscription_status"),
                currentPeriod: zip(start, end).map { BillingPeriod(start: $0, end: $1) },
                autoRenew: try cells["auto_renew"].decode(Bool.self),
                cancelAtPeriodEnd: try cells["cancel_at_period_end"].decode(Bool.self),
                billingAnchor: try cells["billing_anchor"].decode(Date?.self),
                graceUntil: try cells["grace_until"].decode(Date?.self)
            )
            return Locked(invoice: invoice, subscription: subscription, periodMonths: try cells["period_months"].decode(Int.self))
        }
        return nil
    }

    /// Writes a paid invoice, the subscription it extended (when it did) and the card it saved
    /// (made the viewer's default), in one statement. Returns the invoice's payment method.
    public func recordPayment(_ invoice: Invoice, subscription: Subscription?, card: CardToSave?, on connection: PostgresConnection) async throws -> UUID? {
        var ctes: [String] = []
        var bindings = PostgresBindings()
        func bind(_ value: (any PostgresEncodable & Sendable)?) throws -> String {
            try bindings.placeholder(for: value)
        }

        if let card {
            ctes.append("""
                saved AS (
                    INSERT INTO payment_methods (id, user_id, acquirer, token, card_first_six, card_last_four, card_brand, exp_month, exp_year)
                    VALUES (\(try bind(UUID())), \(try bind(invoice.userID)), \(try bind(card.acquirer)), \(try bind(card.token)),
                            \(try bind(card.card?.firstSix)), \(try bind(card.card?.lastFour)), \(try bind(card.card?.brand)),
                            \(try bind(card.card?.expiryMonth))::integer, \(try bind(card.card?.expiryYear))::integer)
                    ON CONFLICT (acquirer, token) DO UPDATE SET revoked = false
                    RETURNING id
                )
                """)
            ctes.append("""
                made_default AS (
                    UPDATE customers SET default_payment_method_id = (SELECT id FROM saved), updated_at = now()
                    WHERE user_id = \(try bind(invoice.userID))
                )
                """)
        }
        let paymentMethod = card == nil ? try bind(invoice.paymentMethodID) + "::uuid" : "(SELECT id FROM saved)"
        if let subscription {
            ctes.append("""
                extended AS (
                    UPDATE subscriptions SET
                        status = \(try bind(subscription.status.rawValue)),
                        plan_id = \(try bind(subscription.planID)),
                        auto_renew = \(try bind(subscription.autoRenew)),
                        current_period_start = \(try bind(subscription.currentPeriod?.start))::timestamptz,
                        current_period_end = \(try bind(subscription.currentPeriod?.end))::timestamptz,
                        billing_anchor = \(try bind(subscription.billingAnchor))::timestamptz,
                        grace_until = \(try bind(subscription.graceUntil))::timestamptz,
                        updated_at = now()
                    WHERE id = \(try bind(subscription.id))
                )
                """)
        }
        let update = """
            UPDATE invoices SET
                status = \(try bind(invoice.status.rawValue)),
                acquirer_transaction_id = \(try bind(invoice.acquirerTransactionID)),
                payment_method_id = \(paymentMethod),
                period_start = \(try bind(invoice.period?.start))::timestamptz,
                period_end = \(try bind(invoice.period?.end))::timestamptz,
                failure_code = NULL,
                failure_message = NULL,
                paid_at = \(try bind(invoice.paidAt))::timestamptz,
                paid_attempt_id = \(try bind(invoice.paidAttemptID))::uuid,
                updated_at = now()
            WHERE id = \(try bind(invoice.id))
            RETURNING payment_method_id
            """
        let sql = (ctes.isEmpty ? "" : "WITH " + ctes.joined(separator: ",\n") + "\n") + update
        guard let row = try await connection.firstRow(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: connection.logger) else {
            throw PostgresRowMissing(query: "record payment")
        }
        return try row.decode(UUID?.self)
    }
}
