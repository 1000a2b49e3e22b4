import Foundation
import Storage

/// Checks that the books balance over the whole database: each paid invoice has exactly one
/// matching successful attempt, every other successful attempt is refunded in full, refunds never
/// exceed their attempt, and running access is covered by paid invoices.
public struct Audit: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every breach found; empty when the books balance.
    public func run() async throws -> [AuditBreach] {
        try await database.read { try await AuditQueries().breaches(on: $0) }
    }
}
