import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One TCP connection to an SMTP server, one request at a time, logging the conversation at debug level.
struct SMTPConnection: Sendable {
    private let channel: any Channel
    private let failures: SMTPChannelFailureRecord
    private let logger: Logger

    /// Connects, with TLS from the first byte when `implicitTLS` is given.
    static func open(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        implicitTLS: NIOSSLContext?,
        serverHostname: String?,
        timeout: Duration,
        logger: Logger
    ) async throws -> SMTPConnection {
        let failures = SMTPChannelFailureRecord()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        let tls = try NIOSSLClientHandler(context: implicitTLS, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(failures: failures))
                }
            }
            .connect(host: host, port: port)
            .get()
        logger.debug("SMTP connected", metadata: ["smtp.peer": "\(channel.remoteAddress.map { "\($0)" } ?? host)"])
        return SMTPConnection(channel: channel, failures: failures, logger: logger)
    }

    /// Waits for the server's greeting.
    func greeting(timeout: Duration) async throws -> SMTPReply {
        try await exchange(nil, timeout: timeout)
    }

    /// Sends one command line; `logAs` replaces it in the log when it carries a secret.
    func command(_ line: String, logAs: String? = nil, timeout: Duration) async throws -> SMTPReply {
        logger.debug("SMTP C: \(logAs ?? line)")
        return try await exchange(channel.allocator.buffer(string: line + "\r\n"), timeout: timeout)
    }

    /// Sends the message body, already dot-stuffed and terminated.
    func messageBody(_ payload: [UInt8], timeout: Duration) async throws -> SMTPReply {
        logger.debug("SMTP C: <message, \(payload.count) bytes>")
        return try await exchange(channel.allocator.buffer(bytes: payload), timeout: timeout)
    }

    /// Puts TLS under the conversation after STARTTLS's 220; the handshake runs before the next reply can arrive.
    func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let replies = try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self)
                // RFC 3207 §4.2: plain text after the 220 could be an attacker's injected command reply.
                guard !replies.hasUnconsumedInput else {
                    throw SMTPChannelFailure.malformedReply("data received after the STARTTLS reply")
                }
                let tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            }.get()
        } catch {
            // A channel that closed meanwhile has no handler left to find; its recorded failure is the cause.
            throw failures.failure ?? error
        }
    }

    /// Says QUIT when the connection is still usable, then closes it whatever happens.
    func close(timeout: Duration) async {
        if channel.isActive {
            _ = try? await command("QUIT", timeout: timeout)
        }
        try? await channel.close()
    }

    private func exchange(_ bytes: ByteBuffer?, timeout: Duration) async throws -> SMTPReply {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        // A write that never reaches the handler (channel already closed) must still complete the reply.
        channel.writeAndFlush(SMTPRequest(bytes: bytes, timeout: TimeAmount(timeout), reply: promise))
            .whenFailure { promise.fail($0) }
        let reply: SMTPReply
        do {
            reply = try await promise.futureResult.get()
        } catch {
            throw failures.failure ?? error
        }
        for (index, line) in reply.lines.enumerated() {
            logger.debug("SMTP S: \(reply.code)\(index == reply.lines.count - 1 ? " " : "-")\(line)")
        }
        return reply
    }
}
