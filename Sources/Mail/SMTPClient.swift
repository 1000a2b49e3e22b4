import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Delivers messages through one SMTP server, a fresh connection per message, closed on every path.
public struct SMTPClient: Sendable {
    /// The server and its security settings.
    public let configuration: SMTPConfiguration
    /// The per-step time limits.
    public let timeouts: SMTPTimeouts
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    // Built once: loading the system trust store for every message would be wasted work.
    private let tlsContext: NIOSSLContext?

    /// A client; throws when the TLS setup (the `ca_file` above all) cannot be loaded.
    public init(
        configuration: SMTPConfiguration,
        timeouts: SMTPTimeouts = SMTPTimeouts(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws(SMTPConfigurationError) {
        self.configuration = configuration
        self.timeouts = timeouts
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        guard configuration.encryption != .none else {
            tlsContext = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile {
            do {
                tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
            } catch {
                throw .unreadableCAFile(path: caFile, reason: "\(error)")
            }
        }
        do {
            tlsContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw .unreadableCAFile(path: configuration.caFile ?? "(system trust store)", reason: "\(error)")
        }
    }

    /// Renders and delivers one message; an `SMTPError` says whether a later retry can succeed.
    public func send(_ message: MailMessage) async throws(SMTPError) {
        let body: String, sender: String, recipient: String
        do {
            body = try message.render()
            sender = try message.from.validatedAddress()
            recipient = try message.to.validatedAddress()
        } catch {
            throw SMTPError(step: .render, reason: .invalidMessage(error))
        }
        var logger = self.logger
        logger[metadataKey: "smtp.message_id"] = "\(message.messageID)"
        logger[metadataKey: "smtp.server"] = "\(configuration.host):\(configuration.port)"

        let connection: SMTPConnection
        do {
            connection = try await SMTPConnection.open(
                host: configuration.host,
                port: configuration.port,
                group: eventLoopGroup,
                implicitTLS: configuration.encryption == .implicitTLS ? tlsContext : nil,
                serverHostname: serverHostname,
                timeout: timeouts.connect,
                logger: logger
            )
        } catch {
            throw SMTPError(step: .connect, reason: Self.reason(for: error))
        }
        let outcome: Result<Void, SMTPError>
        do {
            try await deliver(over: connection, from: sender, to: recipient, body: body)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await connection.close(timeout: timeouts.command)
        try outcome.get()
        logger.debug("SMTP message accepted")
    }

    private func deliver(over connection: SMTPConnection, from sender: String, to recipient: String, body: String) async throws(SMTPError) {
        try await expect([220], at: .greeting) { try await connection.greeting(timeout: timeouts.command) }
        var extensions = try await hello(connection)
        var encrypted = configuration.encryption == .implicitTLS
        if !encrypted, configuration.encryption != .none, let tlsContext {
            if extensions["STARTTLS"] != nil {
                try await expect([220], at: .startTLS) { try await connection.command("STARTTLS", timeout: timeouts.command) }
                do {
                    try await connection.startTLS(context: tlsContext, serverHostname: serverHostname)
                } catch {
                    throw SMTPError(step: .startTLS, reason: Self.reason(for: error))
                }
                encrypted = true
                // RFC 3207: everything learnt before TLS is void; the extensions may differ now.
                do {
                    extensions = try await hello(connection)
                } catch {
                    // The handshake runs under this first EHLO, but its failure belongs to STARTTLS.
                    guard case .tlsFailed = error.reason else { throw error }
                    throw SMTPError(step: .startTLS, reason: error.reason)
                }
            } else if configuration.encryption == .startTLSRequired {
                throw SMTPError(step: .startTLS, reason: .startTLSNotOffered)
            }
        }
        if let credentials = configuration.credentials {
            guard encrypted || SMTPConfiguration.isLoopback(configuration.host) else {
                throw SMTPError(step: .auth, reason: .credentialsNeedEncryption)
            }
            try await authenticate(over: connection, with: credentials, offered: extensions["AUTH"] ?? [])
        }
        try await expect([250], at: .mailFrom) { try await connection.command("MAIL FROM:<\(sender)>", timeout: timeouts.command) }
        try await expect([250, 251], at: .rcptTo) { try await connection.command("RCPT TO:<\(recipient)>", timeout: timeouts.command) }
        try await expect([354], at: .data) { try await connection.command("DATA", timeout: timeouts.command) }
        try await expect([250], at: .data) {
            try await connection.messageBody(SMTPDataEncoding.payload(body), timeout: timeouts.dataEnd)
        }
    }

    /// EHLO, or HELO for a server that refuses EHLO with 5xx; returns the advertised extensions.
    private func hello(_ connection: SMTPConnection) async throws(SMTPError) -> [String: [String]] {
        let name = configuration.ehloName
        let reply = try await exchange(at: .ehlo) { try await connection.command("EHLO \(name)", timeout: timeouts.command) }
        if reply.code == 250 { return reply.extensions }
        guard (500...599).contains(reply.code) else {
            throw SMTPError(step: .ehlo, reason: .rejected(code: reply.code, text: reply.text))
        }
        try await expect([250], at: .ehlo) { try await connection.command("HELO \(name)", timeout: timeouts.command) }
        return [:]
    }

    /// AUTH PLAIN when offered (one round trip), else AUTH LOGIN; secrets never reach the log.
    private func authenticate(
        over connection: SMTPConnection, with credentials: SMTPCredentials, offered: [String]
    ) async throws(SMTPError) {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if offered.contains("PLAIN") {
            let token = base64("\0\(credentials.username)\0\(credentials.password)")
            try await expect([235], at: .auth) {
                try await connection.command("AUTH PLAIN \(token)", logAs: "AUTH PLAIN <credentials>", timeout: timeouts.command)
            }
        } else if offered.contains("LOGIN") {
            try await expect([334], at: .auth) { try await connection.command("AUTH LOGIN", timeout: timeouts.command) }
            try await expect([334], at: .auth) {
                try await connection.command(base64(credentials.username), logAs: "<username>", timeout: timeouts.command)
            }
            try await expect([235], at: .auth) {
                try await connection.command(base64(credentials.password), logAs: "<password>", timeout: timeouts.command)
            }
        } else {
            throw SMTPError(step: .auth, reason: .noSupportedAuthMechanism(offered))
        }
    }

    @discardableResult
    private func expect(
        _ codes: Set<Int>, at step: SMTPError.Step, _ operation: () async throws -> SMTPReply
    ) async throws(SMTPError) -> SMTPReply {
        let reply = try await exchange(at: step, operation)
        guard codes.contains(reply.code) else {
            throw SMTPError(step: step, reason: .rejected(code: reply.code, text: reply.text))
        }
        return reply
    }

    private func exchange(at step: SMTPError.Step, _ operation: () async throws -> SMTPReply) async throws(SMTPError) -> SMTPReply {
        do {
            return try await operation()
        } catch {
            throw SMTPError(step: step, reason: Self.reason(for: error))
        }
    }

    /// The name for SNI and certificate checks; nil for an IP address, which NIOSSL then checks against the peer address.
    private var serverHostname: String? {
        (try? SocketAddress(ipAddress: configuration.host, port: 0)) == nil ? configuration.host : nil
    }

    private static func reason(for error: any Error) -> SMTPError.Reason {
        switch error {
        case SMTPChannelFailure.timedOut: .timedOut
        case SMTPChannelFailure.closed: .connectionFailed("connection closed by the server")
        case SMTPChannelFailure.malformedReply(let detail): .protocolViolation(detail)
        case SMTPChannelFailure.io(let underlying): reason(for: underlying)
        case ChannelError.connectTimeout: .timedOut
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError: .tlsFailed("\(error)")
        default: .connectionFailed("\(error)")
        }
    }
}
