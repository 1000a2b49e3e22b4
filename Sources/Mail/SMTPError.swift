/// A failed delivery: which step failed, why, and whether trying again later can help.
public struct SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part of the conversation that failed.
    public enum Step: String, Sendable, Hashable {
        /// Turning the message into RFC 5322 text, before any connection.
        case render = "rendering the message"
        /// Opening the TCP connection (and, for smtps, nothing else yet).
        case connect = "connect"
        /// Waiting for the server's 220 (the TLS handshake for smtps happens here).
        case greeting = "greeting"
        /// EHLO, or HELO when EHLO is refused.
        case ehlo = "EHLO"
        /// STARTTLS and its handshake.
        case startTLS = "STARTTLS"
        /// AUTH PLAIN or LOGIN.
        case auth = "AUTH"
        /// The envelope sender.
        case mailFrom = "MAIL FROM"
        /// The envelope recipient; a 5xx here usually means the address does not exist.
        case rcptTo = "RCPT TO"
        /// DATA and the message body.
        case data = "DATA"
    }

    /// What went wrong.
    public enum Reason: Sendable, Hashable {
        /// The server answered with this code and text (4xx transient, 5xx or anything unexpected permanent).
        case rejected(code: Int, text: String)
        /// Refused, unreachable, reset or closed by the server: transient.
        case connectionFailed(String)
        /// No answer in time: transient.
        case timedOut
        /// The server's replies made no sense (garbage, a reply nobody asked for): transient.
        case protocolViolation(String)
        /// TLS handshake or certificate verification failed: permanent until the configuration changes.
        case tlsFailed(String)
        /// `starttls=required` but the server does not offer STARTTLS: permanent.
        case startTLSNotOffered
        /// Credentials would go in clear to a host that is not loopback: permanent.
        case credentialsNeedEncryption
        /// The server offers neither AUTH PLAIN nor AUTH LOGIN: permanent.
        case noSupportedAuthMechanism([String])
        /// The message cannot be rendered: permanent.
        case invalidMessage(MailMessageError)
    }

    /// The step that failed.
    public var step: Step
    /// Why it failed.
    public var reason: Reason

    /// A failure at a step.
    public init(step: Step, reason: Reason) {
        self.step = step
        self.reason = reason
    }

    /// True when the same message may go through later unchanged (4xx, network, timeout); false means give up or fix something first.
    public var isTransient: Bool {
        switch reason {
        case .rejected(let code, _): (400...499).contains(code)
        case .connectionFailed, .timedOut, .protocolViolation: true
        case .tlsFailed, .startTLSNotOffered, .credentialsNeedEncryption, .noSupportedAuthMechanism, .invalidMessage: false
        }
    }

    /// The server's reply code, when the server answered.
    public var code: Int? {
        if case .rejected(let code, _) = reason { code } else { nil }
    }

    /// "SMTP transient error at RCPT TO: server replied 450 ...", for logs.
    public var description: String {
        let kind = isTransient ? "transient" : "permanent"
        let detail = switch reason {
        case .rejected(let code, let text): "server replied \(code) \(text)"
        case .connectionFailed(let cause): "connection failed: \(cause)"
        case .timedOut: "timed out"
        case .protocolViolation(let cause): "protocol violation: \(cause)"
        case .tlsFailed(let cause): "TLS failed: \(cause)"
        case .startTLSNotOffered: "server does not offer STARTTLS, which the configuration requires"
        case .credentialsNeedEncryption: "refusing to send credentials over an unencrypted connection"
        case .noSupportedAuthMechanism(let offered): "no supported AUTH mechanism (server offers: \(offered.joined(separator: " ")))"
        case .invalidMessage(let error): "invalid message: \(error)"
        }
        return "SMTP \(kind) error at \(step.rawValue): \(detail)"
    }
}
