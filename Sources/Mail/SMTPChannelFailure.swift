import Synchronization

/// Why the channel could not produce a reply; the client turns it into an `SMTPError` for the step at hand.
enum SMTPChannelFailure: Error {
    /// No reply within the request's timeout.
    case timedOut
    /// The connection ended while a reply was awaited.
    case closed
    /// Bytes that are not SMTP replies, or replies nobody asked for.
    case malformedReply(String)
    /// An error from below: the socket or the TLS handler.
    case io(any Error)
}

/// The first failure of a channel, kept where the async side can read it: a write to a channel that has
/// already closed only says "closed", while the cause (a refused certificate, say) was recorded here earlier.
final class SMTPChannelFailureRecord: Sendable {
    private let first = Mutex<SMTPChannelFailure?>(nil)

    /// Keeps the failure unless one came before; returns the one kept.
    func record(_ failure: SMTPChannelFailure) -> SMTPChannelFailure {
        first.withLock { kept in
            if kept == nil { kept = failure }
            return kept ?? failure
        }
    }

    /// The first failure, if any.
    var failure: SMTPChannelFailure? { first.withLock { $0 } }
}
