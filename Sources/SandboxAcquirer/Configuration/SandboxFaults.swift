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
    /// When set, `/payments/refund` refuses every refund with this `Message`: nothing is refunded and nothing is notified.
    /// In JSON a text, or `true` for ``defaultRefundDeclineMessage``; `false`, `null` or `""` is off.
    public var refundDecline: String?
    /// `/payments/refund` does the refund and sends its notification, but answers only after this long: a client
    /// with a shorter timeout sees what a real timeout looks like, no answer while the money did move.
    public var refundTimeoutMs: Int
    /// `/payments/tokens/charge` makes the charge and sends its notifications, but answers only after this long: a
    /// renewal whose answer is lost while the card was charged.
    public var chargeTimeoutMs: Int

    /// The `Message` of a declined refund when the switch is just `true`.
    public static let defaultRefundDeclineMessage = "Refund declined (injected by the sandbox)"

    /// The JSON keys are the property names.
    private enum CodingKeys: String, CodingKey {
        case notificationDelayMs, duplicateNotifications, dropNotifications, apiErrorRate, apiLatencyMs
        case refundDecline, refundTimeoutMs, chargeTimeoutMs
    }

    public init(
        notificationDelayMs: Int = 0,
        duplicateNotifications: Int = 0,
        dropNotifications: Int = 0,
        apiErrorRate: Double = 0,
        apiLatencyMs: Int = 0,
        refundDecline: String? = nil,
        refundTimeoutMs: Int = 0,
        chargeTimeoutMs: Int = 0
    ) {
        self.notificationDelayMs = notificationDelayMs
        self.duplicateNotifications = duplicateNotifications
        self.dropNotifications = dropNotifications
        self.apiErrorRate = apiErrorRate
        self.apiLatencyMs = apiLatencyMs
        self.refundDecline = refundDecline?.isEmpty == true ? nil : refundDecline
        self.refundTimeoutMs = refundTimeoutMs
        self.chargeTimeoutMs = chargeTimeoutMs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            notificationDelayMs: try container.decodeIfPresent(Int.self, forKey: .notificationDelayMs) ?? 0,
            duplicateNotifications: try container.decodeIfPresent(Int.self, forKey: .duplicateNotifications) ?? 0,
            dropNotifications: try container.decodeIfPresent(Int.self, forKey: .dropNotifications) ?? 0,
            apiErrorRate: try container.decodeIfPresent(Double.self, forKey: .apiErrorRate) ?? 0,
            apiLatencyMs: try container.decodeIfPresent(Int.self, forKey: .apiLatencyMs) ?? 0,
            refundDecline: try Self.decodeRefundDecline(from: container),
            refundTimeoutMs: try container.decodeIfPresent(Int.self, forKey: .refundTimeoutMs) ?? 0,
            chargeTimeoutMs: try container.decodeIfPresent(Int.self, forKey: .chargeTimeoutMs) ?? 0
        )
    }

    /// A message, or a plain `true`/`false`, because "decline refunds" rarely needs a particular text.
    private static func decodeRefundDecline(from container: KeyedDecodingContainer<CodingKeys>) throws -> String? {
        if let flag = try? container.decodeIfPresent(Bool.self, forKey: .refundDecline) {
            return flag ? defaultRefundDeclineMessage : nil
        }
        return try container.decodeIfPresent(String.self, forKey: .refundDecline)
    }

    /// Why these switches cannot be applied, or nil when they can.
    var validationProblem: String? {
        if [notificationDelayMs, duplicateNotifications, dropNotifications, apiLatencyMs, refundTimeoutMs, chargeTimeoutMs].contains(where: { $0 < 0 }) {
            return "Counts and delays must not be negative"
        }
        if !(0...1).contains(apiErrorRate) { return "apiErrorRate must be between 0 and 1" }
        return nil
    }
}
