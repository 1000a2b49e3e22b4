@testable import Acquiring
import Foundation
import Testing

/// Replays the fuzzers' seeds and every crasher they ever found (Fuzz/Corpus, Fuzz/Crashers)
/// through the same checks scripts/fuzz runs, so a fixed crash stays fixed without libFuzzer.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let fuzzRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// The files under `Fuzz/<folder>/<target>/`, by name relative to `Fuzz/`.
    static func inputs(of target: String) -> [String] {
        ["Corpus", "Crashers"].flatMap { folder in
            let path = "\(folder)/\(target)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: fuzzRoot.appendingPathComponent(path).path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
        }
    }

    static func bytes(_ input: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fuzzRoot.appendingPathComponent(input)))
    }

    @Test("every seed and crasher is found", arguments: ["notification-parser", "form-decoder"])
    func inputsExist(target: String) {
        #expect(Self.inputs(of: target).contains { $0.hasPrefix("Corpus/") })
        #expect(Self.inputs(of: target).contains { $0.hasPrefix("Crashers/") })
    }

    @Test("notification bodies parse within range, or are refused", arguments: inputs(of: "notification-parser"))
    func notification(input: String) throws {
        #expect(NotificationFuzzing.notificationViolations(body: try Self.bytes(input)) == [], "\(input)")
    }

    @Test("form fields, dates, expiries and amounts read within range", arguments: inputs(of: "form-decoder") + inputs(of: "notification-parser"))
    func fields(input: String) throws {
        #expect(NotificationFuzzing.fieldViolations(text: try Self.bytes(input)) == [], "\(input)")
    }

    /// The checks hold vacuously for a body the parser refuses; the seeds are real notifications
    /// (of the kind their file name starts with), and a crasher's one unusable value must cost only
    /// that value, never the record of the money.
    @Test("seeds and crashers are accepted as notifications", arguments: inputs(of: "notification-parser"))
    func accepted(input: String) throws {
        let name = String(input.split(separator: "/").last ?? "")
        let kind = try #require(NotificationKind(rawValue: String(name.prefix { $0.isLetter })), "\(input) names no kind")
        let contentType = name.hasSuffix(".json") ? "application/json" : "application/x-www-form-urlencoded"
        let notification = try CloudPaymentsNotificationParser().parse(kind: kind, body: try Self.bytes(input), contentType: contentType)
        #expect(notification.amount != nil)
        if input.hasPrefix("Corpus/") { #expect(notification.occurredAt != nil) }
        if name.contains("card-exp-date-int64-max") { #expect(notification.card != nil && notification.card?.expiryYear == nil) }
        if name.contains("date-time-year-300000") { #expect(notification.occurredAt == nil) }
        if name.contains("reason-code-beyond-int32") { #expect(notification.decline?.code == 0) }
    }
}
