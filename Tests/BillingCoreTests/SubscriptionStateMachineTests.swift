import BillingCore
import Testing

@Suite("Subscription state machine")
struct SubscriptionStateMachineTests {
    /// The allowed moves from DESIGN.md: pending -> active -> past_due -> active | expired;
    /// active -> canceled -> expired; canceled -> active (resumed); active -> expired (a lapse, while nothing renews); plus the repeats that are no-ops.
    static let allowed: [SubscriptionStatus: [SubscriptionEvent: Transition<SubscriptionStatus>]] = [
        .pending: [.activate: .move(from: .pending, to: .active)],
        .active: [
            .activate: .alreadyApplied(.active),
            .renew: .move(from: .active, to: .active),
            .renewalFailed: .move(from: .active, to: .pastDue),
            .cancel: .move(from: .active, to: .canceled),
            .resume: .alreadyApplied(.active),
            .expire: .move(from: .active, to: .expired),
        ],
        .pastDue: [
            .renew: .move(from: .pastDue, to: .active),
            .renewalFailed: .alreadyApplied(.pastDue),
            .expire: .move(from: .pastDue, to: .expired),
        ],
        .canceled: [
            .cancel: .alreadyApplied(.canceled),
            .resume: .move(from: .canceled, to: .active),
            .expire: .move(from: .canceled, to: .expired),
        ],
        .expired: [.expire: .alreadyApplied(.expired)],
    ]

    static let pairs: [(SubscriptionStatus, SubscriptionEvent)] = SubscriptionStatus.allCases.flatMap { state in
        SubscriptionEvent.allCases.map { (state, $0) }
    }

    @Test("allowed moves happen and everything else is refused without a change", arguments: 0..<30)
    func verdict(index: Int) {
        let (state, event) = Self.pairs[index]
        let verdict = state.applying(event)
        if let expected = Self.allowed[state]?[event] {
            #expect(verdict == expected, "\(state) + \(event)")
        } else {
            guard case .refused(let stayed, _) = verdict else {
                Issue.record("\(state) + \(event) should be refused, got \(verdict)")
                return
            }
            #expect(stayed == state)
        }
    }

    @Test("there are 30 state and event pairs")
    func pairCount() {
        #expect(Self.pairs.count == 30)
    }

    @Test("access: active, past due (grace) and canceled (paid period) watch; pending and expired do not")
    func access() {
        #expect(SubscriptionStatus.allCases.filter(\.grantsAccess) == [.active, .pastDue, .canceled])
    }
}
