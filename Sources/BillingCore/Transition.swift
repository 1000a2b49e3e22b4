/// The verdict of a state machine on one event: move, nothing to do, or not allowed.
public enum Transition<State: Hashable & Sendable>: Hashable, Sendable {
    /// The event applies: the entity moves from `from` to `to`.
    case move(from: State, to: State)
    /// The event was applied before (notifications arrive many times): succeed without a change.
    case alreadyApplied(State)
    /// The event does not fit the state; the entity stays where it is.
    case refused(State, reason: String)

    /// The state after the event, whatever the verdict.
    public var resultingState: State {
        switch self {
        case .move(_, let to): to
        case .alreadyApplied(let state), .refused(let state, _): state
        }
    }
}
