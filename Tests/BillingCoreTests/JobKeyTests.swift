import BillingCore
import Foundation
import Testing

/// Job keys name a period end to the microsecond PostgreSQL keeps.
@Suite("Job keys")
struct JobKeyTests {
    @Test("a key made from a time in memory names that time as stored, cut to the microsecond, whatever its fraction", arguments: [0.0, 0.2, 0.5, 0.7, 0.999])
    func storedTime(fraction: Double) throws {
        let stored = Date(timeIntervalSince1970: 1_804_167_016.658255)
        let inMemory = stored.addingTimeInterval(fraction / 1_000_000)
        let id = UUID()
        let key = JobKey(subscriptionID: id, periodEnd: inMemory)
        #expect(key.names(periodEnd: stored))
        #expect(!key.names(periodEnd: stored.addingTimeInterval(0.000_003)), "another period end is another key")
        let parsed = try #require(JobKey(key.description))
        #expect(parsed == key)
        #expect(abs(parsed.periodEnd.timeIntervalSince(stored)) < 0.000_002)
    }

    @Test("keys that are not <uuid>/<number> are refused", arguments: ["", "x/1", "\(UUID().uuidString)/", "\(UUID().uuidString)/1/2", "\(UUID().uuidString)"])
    func malformed(text: String) {
        #expect(JobKey(text) == nil)
    }
}
