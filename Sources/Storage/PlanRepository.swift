import BillingCore
import Foundation
import PostgresNIO

/// Reads the plan catalog.
public struct PlanRepository: Sendable {
    public init() {}

    public func activePlans(on connection: PostgresConnection) async throws -> [Plan] {
        try await plans(connection.query("""
            SELECT id, code, tier, title, period_months, price_amount, currency, active
            FROM plans WHERE active ORDER BY period_months
            """, logger: connection.logger))
    }

    /// Every plan ever sold, by id: old invoices name plans that are no longer on sale.
    public func allPlansByID(on connection: PostgresConnection) async throws -> [UUID: Plan] {
        let all = try await plans(connection.query("""
            SELECT id, code, tier, title, period_months, price_amount, currency, active FROM plans
            """, logger: connection.logger))
        return Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
    }

    /// A plan by id or by code; the API accepts either, codes being what people type.
    public func plan(idOrCode: String, on connection: PostgresConnection) async throws -> Plan? {
        let id = UUID(uuidString: idOrCode)
        return try await plans(connection.query("""
            SELECT id, code, tier, title, period_months, price_amount, currency, active
            FROM plans WHERE id = \(id) OR code = \(idOrCode)
            """, logger: connection.logger)).first
    }

    public func plan(id: UUID, on connection: PostgresConnection) async throws -> Plan? {
        try await plan(idOrCode: id.uuidString, on: connection)
    }

    private func plans(_ rows: PostgresRowSequence) async throws -> [Plan] {
        var plans: [Plan] = []
        for try await (id, code, tier, title, months, amount, currencyCode, active)
            in rows.decode((UUID, String, String, String, Int, Int64, String, Bool).self) {
            guard let currency = Currency(rawValue: currencyCode) else { throw UnknownDatabaseValue(column: "plans.currency", value: currencyCode) }
            plans.append(Plan(id: id, code: code, tier: tier, title: title, periodMonths: months, price: Money(amount: amount, currency: currency), active: active))
        }
        return plans
    }
}
