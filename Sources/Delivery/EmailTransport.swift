import BillingCore

/// Hands an email to the mail server. `dev` and production use SMTP (`SMTPTransport`).
public protocol EmailTransport: Sendable {
    func send(_ email: Email) async -> EmailSendOutcome
}

/// What the mail server made of an email.
public enum EmailSendOutcome: Sendable, Equatable {
    case sent
    /// Not now (the server is down, busy, or said 4xx): try again later.
    case retry(String)
    /// Never (the server said 5xx: no such mailbox, say).
    case rejected(String)
}
