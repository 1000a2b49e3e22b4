import Billing
import Foundation
import Hummingbird

/// `POST /internal/v1/clock/advance`: jumps the service's clock ahead, for demos and end-to-end
/// tests of what time decides (the first hour of a cancellation, a month turning). Registered only
/// with `MOVIX_CLOCK=offset`; under the system clock the route does not exist.
struct ClockController {
    let clock: OffsetClock
    /// Runs what the jump made due (the in-process worker) before the answer, so a caller sees
    /// its effects as soon as the call returns.
    let afterAdvance: @Sendable () async -> Void

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.post("clock/advance", use: advance)
    }

    /// How far to jump.
    struct AdvanceRequestBody: Decodable {
        var seconds: Int64
    }

    /// The service's time after the jump.
    struct ClockBody: ResponseEncodable {
        var now: Date
        var offsetSeconds: Int64
    }

    static let maxJump: Int64 = 315_360_000
    static let maxOffset: TimeInterval = 100 * 365 * 86_400

    @Sendable func advance(_ request: Request, context: BillingRequestContext) async throws -> ClockBody {
        let input = try await decodeBody(AdvanceRequestBody.self, from: request, context: context)
        // Ten years a jump and a century in all are far more than any demo needs, and keep every
        // date one that people, PostgreSQL and ISO 8601 read alike.
        guard (0...Self.maxJump).contains(input.seconds), clock.offsetSeconds + Double(input.seconds) <= Self.maxOffset else {
            throw Problem.invalid("seconds must be between 0 and \(Self.maxJump) (ten years), and the clock at most a century ahead: it only moves forward.")
        }
        let now = clock.advance(by: TimeInterval(input.seconds))
        await afterAdvance()
        return ClockBody(now: now, offsetSeconds: Int64(clock.offsetSeconds))
    }
}
