import Foundation
import Logging
import Mail
import MailSink
import Testing

/// Deliveries to real aiosmtpd processes (scripts/smtp_sink.py), one per test.
@Suite("SMTP delivery to a local sink")
struct SMTPDeliveryTests {
    static let message = MailMessage(
        from: MailAddress("billing@movix.example", displayName: "Кинотеатр Movix"),
        to: MailAddress("ivan@example.com", displayName: "Иван Петров"),
        subject: "Ваша подписка Movix продлена — спасибо, что вы с нами!",
        textBody: "Здравствуйте, Иван!\n.\n.Строка с точкой в начале.\nПодписка продлена до 1 июля.\n",
        htmlBody: "<p>Здравствуйте, Иван!</p>\n<p>Подписка продлена до <b>1 июля</b>.</p>\n",
        messageID: "renewal-42@movix.example",
        date: Date(timeIntervalSince1970: 1_751_371_200)
    )

    static func client(_ url: String, timeouts: SMTPTimeouts = SMTPTimeouts(), logger: Logger = Logger(label: "mail-test")) throws -> SMTPClient {
        try SMTPClient(configuration: SMTPConfiguration(url: url), timeouts: timeouts, logger: logger)
    }

    @Test("plain delivery: envelope, Russian subject and both bodies arrive intact")
    func plainDelivery() async throws {
        try await withSink { sink in
            // No starttls option: the sink offers no STARTTLS, so "auto" goes on in plain text (no credentials at stake).
            try await Self.client("smtp://127.0.0.1:\(sink.port)").send(Self.message)
            let delivered = try sink.deliveredMessages()
            try #require(delivered.count == 1)
            let mail = delivered[0]
            #expect(mail.envelopeFrom == "<billing@movix.example>")
            #expect(mail.envelopeTo == ["<ivan@example.com>"])
            #expect(mail.subject == Self.message.subject)
            #expect(mail.from == "Кинотеатр Movix <billing@movix.example>")
            #expect(mail.to == "Иван Петров <ivan@example.com>")
            #expect(mail.messageID == "<renewal-42@movix.example>")
            #expect(mail.contentType == "multipart/alternative")
            #expect(mail.text.replacingOccurrences(of: "\r\n", with: "\n") == Self.message.textBody)
            #expect(mail.html?.replacingOccurrences(of: "\r\n", with: "\n") == Self.message.htmlBody)
            #expect(mail.defects.isEmpty, "\(mail.defects)")
        }
    }

    @Test("STARTTLS with a verified self-signed certificate (ca_file)")
    func startTLS() async throws {
        try await withSink(encryption: .startTLS) { sink in
            let url = "smtp://localhost:\(sink.port)?starttls=required&ca_file=\(sink.certificatePath!)"
            try await Self.client(url).send(Self.message)
            #expect(try sink.deliveredMessages().map(\.subject) == [Self.message.subject])
        }
    }

    @Test("STARTTLS to a certificate nobody trusts fails permanently, before anything is sent")
    func untrustedCertificate() async throws {
        try await withSink(encryption: .startTLS) { sink in
            let error = await #expect(throws: SMTPError.self) {
                try await Self.client("smtp://localhost:\(sink.port)").send(Self.message)
            }
            #expect(error?.step == .startTLS)
            if case .tlsFailed = error?.reason {} else { Issue.record("expected a TLS failure, got \(String(describing: error))") }
            #expect(error?.isTransient == false)
            let stored = try sink.deliveredFiles()
            #expect(stored.isEmpty)
        }
    }

    @Test("starttls=required against a server without STARTTLS fails permanently")
    func startTLSRequiredButMissing() async throws {
        try await withSink { sink in
            let error = await #expect(throws: SMTPError.self) {
                try await Self.client("smtp://127.0.0.1:\(sink.port)?starttls=required").send(Self.message)
            }
            #expect(error?.reason == .startTLSNotOffered)
            #expect(error?.isTransient == false)
            let stored = try sink.deliveredFiles()
            #expect(stored.isEmpty)
        }
    }

    @Test("implicit TLS (smtps)")
    func implicitTLS() async throws {
        try await withSink(encryption: .implicitTLS) { sink in
            try await Self.client("smtps://localhost:\(sink.port)?ca_file=\(sink.certificatePath!)").send(Self.message)
            #expect(try sink.deliveredMessages().map(\.subject) == [Self.message.subject])
        }
    }

    @Test("AUTH with the right credentials delivers", arguments: ["PLAIN", "LOGIN"])
    func authenticated(mechanism: String) async throws {
        try await withSink(auth: "movix:p@ss w:rd", authMechanisms: mechanism) { sink in
            try await Self.client("smtp://movix:p%40ss%20w%3Ard@127.0.0.1:\(sink.port)").send(Self.message)
            #expect(try sink.deliveredFiles().count == 1)
        }
    }

    @Test("AUTH with wrong credentials fails permanently and nothing is stored", arguments: ["PLAIN", "LOGIN"])
    func wrongCredentials(mechanism: String) async throws {
        try await withSink(auth: "movix:right", authMechanisms: mechanism) { sink in
            let error = await #expect(throws: SMTPError.self) {
                try await Self.client("smtp://movix:wrong@127.0.0.1:\(sink.port)").send(Self.message)
            }
            #expect(error?.step == .auth)
            #expect(error?.code == 535)
            #expect(error?.isTransient == false)
            let stored = try sink.deliveredFiles()
            #expect(stored.isEmpty)
        }
    }

    @Test("AUTH after STARTTLS prefers PLAIN and keeps credentials out of the debug log")
    func authOverStartTLSLog() async throws {
        try await withSink(encryption: .startTLS, auth: "movix:s3cr3t") { sink in
            let store = RecordingLogHandler.Store()
            let logger = Logger(label: "mail-test") { _ in RecordingLogHandler(store: store) }
            let url = "smtp://movix:s3cr3t@localhost:\(sink.port)?ca_file=\(sink.certificatePath!)"
            try await Self.client(url, logger: logger).send(Self.message)
            #expect(try sink.deliveredFiles().count == 1)
            let log = store.messages.withLock { $0 }
            #expect(log.contains("SMTP C: STARTTLS"))
            #expect(log.contains("SMTP C: AUTH PLAIN <credentials>"))
            #expect(log.filter { $0.hasPrefix("SMTP C: EHLO") }.count == 2, "EHLO again after STARTTLS")
            #expect(log.contains { $0.hasPrefix("SMTP S: 235") })
            let secrets = ["s3cr3t", Data("\0movix\0s3cr3t".utf8).base64EncodedString(), Data("s3cr3t".utf8).base64EncodedString()]
            #expect(!log.contains { line in secrets.contains { line.contains($0) } }, "\(log)")
        }
    }

    #if os(Linux)
    // 127.0.0.2 is loopback on Linux but not one of the hosts allowed plain-text AUTH, so it stands in for a remote server.
    @Test("credentials are not sent in clear to a non-loopback host that lacks STARTTLS")
    func noCredentialsInClear() async throws {
        try await withSink(auth: "movix:secret", host: "127.0.0.2") { sink in
            let error = await #expect(throws: SMTPError.self) {
                try await Self.client("smtp://movix:secret@127.0.0.2:\(sink.port)").send(Self.message)
            }
            #expect(error == SMTPError(step: .auth, reason: .credentialsNeedEncryption))
            #expect(error?.isTransient == false)
            let stored = try sink.deliveredFiles()
            #expect(stored.isEmpty)
        }
    }
    #endif

    @Test("a server that is down: connection refused, transient, fast")
    func connectionRefused() async throws {
        let sink = try await SMTPSink.start()
        let port = sink.port
        await sink.stop()
        let started = ContinuousClock.now
        let error = await #expect(throws: SMTPError.self) {
            try await Self.client("smtp://127.0.0.1:\(port)").send(Self.message)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error?.step == .connect)
        #expect(error?.isTransient == true)
        if case .connectionFailed = error?.reason {} else { Issue.record("expected a connection failure, got \(String(describing: error))") }
    }

    @Test("a server that never greets times out, transient")
    func silentServer() async throws {
        // The implicit-TLS sink waits for a ClientHello; a plain client waits for a greeting: neither speaks.
        try await withSink(encryption: .implicitTLS) { sink in
            let timeouts = SMTPTimeouts(command: .milliseconds(500))
            let error = await #expect(throws: SMTPError.self) {
                try await Self.client("smtp://127.0.0.1:\(sink.port)?starttls=never", timeouts: timeouts).send(Self.message)
            }
            #expect(error == SMTPError(step: .greeting, reason: .timedOut))
            #expect(error?.isTransient == true)
        }
    }

    @Test("an invalid message fails before connecting")
    func invalidMessage() async throws {
        var message = Self.message
        message.subject = "Hi\r\nBcc: everyone@example.com"
        let error = await #expect(throws: SMTPError.self) {
            // Port 9 (discard) on a closed address: the client must not get that far.
            try await Self.client("smtp://127.0.0.1:9").send(message)
        }
        #expect(error == SMTPError(step: .render, reason: .invalidMessage(.controlCharacterInHeader(name: "Subject"))))
        #expect(error?.isTransient == false)
    }
}
