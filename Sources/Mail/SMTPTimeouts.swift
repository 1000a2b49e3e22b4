/// How long each step of a delivery may take before it fails as a transient timeout.
public struct SMTPTimeouts: Sendable, Hashable {
    /// Name resolution and TCP connect, all addresses together.
    public var connect: Duration
    /// Each command's reply, the greeting and TLS handshakes included.
    public var command: Duration
    /// The reply after the message body: servers scan the message before answering (RFC 5321 suggests minutes).
    public var dataEnd: Duration

    /// Defaults: 10 s to connect and per command, 60 s for the reply to the message body.
    public init(connect: Duration = .seconds(10), command: Duration = .seconds(10), dataEnd: Duration = .seconds(60)) {
        self.connect = connect
        self.command = command
        self.dataEnd = dataEnd
    }
}
