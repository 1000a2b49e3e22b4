import Foundation
import MailSink
import Testing

/// Starts a sink, runs the test body, and stops the sink whether the body passed or threw.
func withSink(
    encryption: SMTPSink.Encryption = .none, auth: String? = nil, authMechanisms: String? = nil, host: String = "127.0.0.1",
    _ body: (SMTPSink) async throws -> Void
) async throws {
    let sink = try await SMTPSink.start(encryption: encryption, auth: auth, authMechanisms: authMechanisms, host: host)
    do {
        try await body(sink)
    } catch {
        await sink.stop()
        throw error
    }
    #expect(await sink.stop(), "smtp_sink.py should exit 0 on SIGTERM")
}

