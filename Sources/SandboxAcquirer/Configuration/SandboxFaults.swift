/// Failures the sandbox injects on purpose, so retries, idempotency and duplicate handling get exercised.
/// As JSON (`/sandbox/faults`) every key is optional and a missing key means "off".
public struct SandboxFaults: Codable, Sendable, Equatable {
    /// Wait before the first delivery attempt of each asynchronous notification.
    public var notificationDelayMs: Int
    /// Extra identical copies of each asynchronous notification (Pay, Fail, Confirm, Refund, Cancel).
    public var duplicateNotifications: Int
    /// The first N delivery attempts of each notification copy are silently skipped, as if lost on the way.
    public var dropNotifications: Int
    /// Probability (0...1) that an API call answers HTTP 500 without doing anything.
    public var apiErrorRate: Double
    /// Wait before answering each API call.
    public var apiLatencyMs: Int

    public init(
        notificationDelayMs: Int = 0,
        duplicateNotifications: Int = 0,
        dropNotifications: Int = 0,
        apiErrorRate: Double = 0,
        apiLatencyMs: Int = 0
    ) {
        self.notificationDelayMs = notificationDelayMs
        self.duplicateNotifications = duplicateNotifications
        self.dropNotifications = dropNotifications
        self.apiErrorRate = apiErrorRate
        self.apiLatencyMs = apiLatencyMs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            notificationDelayMs: try container.decodeIfPresent(Int.self, forKey: .notificationDelayMs) ?? 0,
            duplicateNotifications: try container.decodeIfPresent(Int.self, forKey: .duplicateNotifications) ?? 0,
            dropNotifications: try container.decodeIfPresent(Int.self, forKey: .dropNotifications) ?? 0,
            apiErrorRate: try container.decodeIfPresent(Double.self, forKey: .apiErrorRate) ?? 0,
            apiLatencyMs: try container.decodeIfPresent(Int.self, forKey: .apiLatencyMs) ?? 0
        )
    }

    /// Why these switches cannot be applied, or nil when they can.
    var validationProblem: String? {
        if [notificationDelayMs, duplicateNotifications, dropNotifications, apiLatencyMs].contains(where: { $0 < 0 }) {
            return "Counts and delays must not be negative"
        }
        if !(0...1).contains(apiErrorRate) { return "apiErrorRate must be between 0 and 1" }
        return nil
    }
}
