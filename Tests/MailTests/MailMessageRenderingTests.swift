import Foundation
@testable import Mail
import NIOCore
import Testing

@Suite("Message rendering")
struct MailMessageRenderingTests {
    static let russianSubject = "Ваша подписка Movix продлена до 1 июля 2026 года — спасибо, что вы с нами!"

    static func message(
        subject: String = russianSubject, html: String? = "<p>Подписка <b>продлена</b>.</p>", messageID: String = "renewal-42@movix.example"
    ) -> MailMessage {
        MailMessage(
            from: MailAddress("billing@movix.example", displayName: "Кинотеатр Movix"),
            to: MailAddress("ivan@example.com", displayName: "Иван Петров"),
            subject: subject,
            textBody: "Здравствуйте!\nПодписка продлена.\n.\n.точка в начале строки\n",
            htmlBody: html,
            messageID: messageID,
            date: Date(timeIntervalSince1970: 1_751_371_200),
            extraHeaders: [MailMessage.Header("List-Unsubscribe", "<https://movix.example/unsubscribe/42>")]
        )
    }

    /// The header block, unfolded, as name → value.
    static func headers(_ rendered: String) -> [String: String] {
        let block = rendered.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        var headers: [String: String] = [:]
        for line in block.components(separatedBy: "\r\n") {
            let (name, value) = (line.prefix { $0 != ":" }, line.drop { $0 != ":" }.dropFirst(2))
            headers[String(name)] = String(value)
        }
        return headers
    }

    /// Decodes RFC 2047 "B" words the renderer writes (whitespace between words dropped, as the RFC says).
    static func decodeEncodedWords(_ value: String) -> String {
        var bytes: [UInt8] = []
        for word in value.split(separator: " ") {
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return value }
            bytes += Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))!
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("the rendering is 7-bit, CRLF-only, with header lines folded to 78 columns")
    func wireForm() throws {
        let rendered = try Self.message().render()
        #expect(rendered.utf8.allSatisfy { $0 < 0x80 })
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(rendered.hasSuffix("\r\n"))
        let headerBlock = rendered.components(separatedBy: "\r\n\r\n")[0]
        for line in headerBlock.components(separatedBy: "\r\n") {
            #expect(line.count <= 78, "\(line)")
        }
    }

    @Test("a Russian subject and display names are RFC 2047 encoded and decode back")
    func encodedWords() throws {
        let headers = Self.headers(try Self.message().render())
        let subject = try #require(headers["Subject"])
        #expect(subject.hasPrefix("=?UTF-8?B?"))
        #expect(subject.split(separator: " ").count > 1, "a long subject spans several encoded words")
        #expect(subject.split(separator: " ").allSatisfy { $0.count <= 75 })
        #expect(Self.decodeEncodedWords(subject) == Self.russianSubject)
        let from = try #require(headers["From"])
        #expect(from.hasSuffix(" <billing@movix.example>"))
        #expect(Self.decodeEncodedWords(String(from.dropLast(" <billing@movix.example>".count))) == "Кинотеатр Movix")
        #expect(headers["To"].map { Self.decodeEncodedWords(String($0.dropLast(" <ivan@example.com>".count))) } == "Иван Петров")
    }

    @Test("standard headers: date in UTC, message id in brackets, extra headers kept")
    func standardHeaders() throws {
        let headers = Self.headers(try Self.message(subject: "Renewal").render())
        #expect(headers["Date"] == "Tue, 01 Jul 2025 12:00:00 +0000")
        #expect(headers["Subject"] == "Renewal")
        #expect(headers["Message-ID"] == "<renewal-42@movix.example>")
        #expect(headers["MIME-Version"] == "1.0")
        #expect(headers["List-Unsubscribe"] == "<https://movix.example/unsubscribe/42>")
        let bracketed = Self.headers(try Self.message(messageID: "<renewal-42@movix.example>").render())
        #expect(bracketed["Message-ID"] == "<renewal-42@movix.example>")
    }

    @Test("display names with specials are quoted; plain ones stay as they are")
    func asciiDisplayNames() throws {
        var message = Self.message(subject: "x")
        message.from = MailAddress("billing@movix.example", displayName: "Movix, \"Billing\"")
        message.to = MailAddress("ivan@example.com", displayName: "Ivan Petrov")
        let headers = Self.headers(try message.render())
        #expect(headers["From"] == "\"Movix, \\\"Billing\\\"\" <billing@movix.example>")
        #expect(headers["To"] == "Ivan Petrov <ivan@example.com>")
        message.to = MailAddress("ivan@example.com")
        #expect(Self.headers(try message.render())["To"] == "ivan@example.com")
    }

    @Test("with HTML: multipart/alternative, text then HTML, boundary derived from the message id")
    func multipart() throws {
        let rendered = try Self.message().render()
        let contentType = try #require(Self.headers(rendered)["Content-Type"])
        #expect(contentType.hasPrefix("multipart/alternative; boundary=\"=_movix_"))
        let boundary = String(contentType.split(separator: "\"")[1])
        let parts = rendered.components(separatedBy: "--\(boundary)")
        #expect(parts.count == 4, "preamble, text, html, closing")
        #expect(parts[1].hasPrefix("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"))
        #expect(parts[2].hasPrefix("\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"))
        #expect(parts[3] == "--\r\n")
        #expect(try Self.message().render() == rendered, "rendering is deterministic")
        #expect(try Self.message(messageID: "renewal-43@movix.example").render().contains(boundary) == false)
    }

    @Test("without HTML: a single text/plain part")
    func singlePart() throws {
        let rendered = try Self.message(html: nil).render()
        #expect(Self.headers(rendered)["Content-Type"] == "text/plain; charset=utf-8")
        #expect(Self.headers(rendered)["Content-Transfer-Encoding"] == "base64")
        #expect(!rendered.contains("multipart"))
    }

    @Test("bodies are base64 in lines of at most 76 characters, with CRLF line breaks inside")
    func base64Body() throws {
        let long = String(repeating: "Длинная строка текста. ", count: 40)
        var message = Self.message(html: nil)
        message.textBody = long + "\nвторая строка"
        let body = try message.render().components(separatedBy: "\r\n\r\n")[1]
        let lines = body.components(separatedBy: "\r\n").dropLast()
        #expect(lines.count > 1)
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(lines.allSatisfy { $0.count <= 76 })
        let decoded = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: decoded, as: UTF8.self) == long + "\r\nвторая строка")
    }

    @Test("a line starting with a dot is dot-stuffed for DATA, and the transfer ends with a lone dot")
    func dotStuffing() {
        let payload = SMTPDataEncoding.payload("Subject: x\r\n\r\n.\r\n.hidden\r\n..two\r\nend.\r\n")
        #expect(String(decoding: payload, as: UTF8.self) == "Subject: x\r\n\r\n..\r\n..hidden\r\n...two\r\nend.\r\n.\r\n")
        #expect(String(decoding: SMTPDataEncoding.payload(".no final break"), as: UTF8.self) == "..no final break\r\n.\r\n")
    }

    @Test("CR or LF in any header value is refused, so no header can be injected", arguments: [
        "Hello\r\nBcc: victim@example.com", "Hello\nBcc: victim@example.com", "Hello\rX", "Null\u{0}byte",
    ])
    func headerInjection(value: String) {
        #expect(throws: MailMessageError.controlCharacterInHeader(name: "Subject")) { try Self.message(subject: value).render() }
        var message = Self.message()
        message.to.displayName = value
        #expect(throws: MailMessageError.controlCharacterInHeader(name: "To")) { try message.render() }
        message = Self.message()
        message.extraHeaders = [MailMessage.Header("Reply-To", value)]
        #expect(throws: MailMessageError.controlCharacterInHeader(name: "Reply-To")) { try message.render() }
    }

    @Test("unusable addresses, ids and extra headers are refused")
    func refusals() {
        for address in ["no-at-sign", "two@@example.com", "a b@example.com", "x@example.com\r\nRCPT TO:<y@example.com>", "<x@example.com>", "иван@example.com", "@example.com"] {
            var message = Self.message()
            message.to = MailAddress(address)
            #expect(throws: MailMessageError.invalidAddress(address)) { try message.render() }
        }
        for id in ["no-at", "a b@c", "<x@y", "x@y>z", ""] {
            #expect(throws: MailMessageError.invalidMessageID(id)) { try Self.message(messageID: id).render() }
        }
        let headers: [(MailMessage.Header, MailMessageError)] = [
            (MailMessage.Header("Bad:Name", "x"), .invalidHeaderName("Bad:Name")),
            (MailMessage.Header("", "x"), .invalidHeaderName("")),
            (MailMessage.Header("content-type", "text/html"), .reservedHeader("content-type")),
            (MailMessage.Header("X-Note", "привет"), .nonASCIIHeaderValue(name: "X-Note")),
        ]
        for (header, error) in headers {
            var message = Self.message()
            message.extraHeaders = [header]
            #expect(throws: error) { try message.render() }
        }
    }

    @Test("multi-line replies are joined and EHLO extensions read, the old AUTH= form included")
    func replies() throws {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: "220 ready\r\n250-mail.example\r\n250-AUTH=LOGIN PLAIN\r\n250-STARTTLS\r\n250 ")
        let first = try parser.feed(&buffer)
        #expect(first == [SMTPReply(code: 220, lines: ["ready"])])
        #expect(!parser.isEmpty)
        buffer = ByteBuffer(string: "SIZE 1000\n")
        let ehlo = try #require(try parser.feed(&buffer).first)
        #expect(ehlo.code == 250)
        #expect(ehlo.extensions == ["AUTH": ["LOGIN", "PLAIN"], "STARTTLS": [], "SIZE": ["1000"]])
        #expect(parser.isEmpty)
        for garbage in ["HTTP/1.1 400 Bad Request\r\n", "250-a\r\n220 b\r\n", "25\r\n", "250x\r\n"] {
            var parser = SMTPReplyParser()
            var buffer = ByteBuffer(string: garbage)
            #expect(throws: SMTPChannelFailure.self) { try parser.feed(&buffer) }
        }
    }
}
