import Foundation

extension MailMessage {
    /// The message as RFC 5322 text: 7-bit ASCII, CRLF line endings, ending with CRLF; the same message always renders the same way.
    public func render() throws(MailMessageError) -> String {
        let id = try normalizedMessageID()
        try Self.checkHeaderText(subject, header: "Subject")
        var text = "Date: \(Self.rfc5322Date(date))\r\n"
        text += MIMEEncoding.fold(prefix: "From: ", words: try from.headerWords(header: "From"))
        text += MIMEEncoding.fold(prefix: "To: ", words: try to.headerWords(header: "To"))
        text += MIMEEncoding.unstructuredHeader(name: "Subject", value: subject)
        text += "Message-ID: <\(id)>\r\n"
        text += "MIME-Version: 1.0\r\n"
        for header in extraHeaders {
            text += try Self.renderedExtraHeader(header)
        }
        guard let htmlBody else {
            return text + Self.part(type: "text/plain", body: textBody)
        }
        // "=_" cannot occur in base64 text, so a boundary starting with it never collides with a body.
        let boundary = "=_movix_" + Self.fnv1a(id)
        text += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
        text += "--\(boundary)\r\n" + Self.part(type: "text/plain", body: textBody)
        text += "--\(boundary)\r\n" + Self.part(type: "text/html", body: htmlBody)
        return text + "--\(boundary)--\r\n"
    }

    /// Refuses control characters (CR and LF above all) in text that goes into a header.
    static func checkHeaderText(_ text: String, header: String) throws(MailMessageError) {
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw .controlCharacterInHeader(name: header)
        }
    }

    private func normalizedMessageID() throws(MailMessageError) -> String {
        var id = Substring(messageID)
        if id.hasPrefix("<"), id.hasSuffix(">") { id = id.dropFirst().dropLast() }
        let halves = id.split(separator: "@", omittingEmptySubsequences: false)
        guard halves.count == 2, halves.allSatisfy({ !$0.isEmpty }),
              id.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else { throw .invalidMessageID(messageID) }
        return String(id)
    }

    private static let reservedHeaders: Set<String> = [
        "date", "from", "to", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding",
    ]

    private static func renderedExtraHeader(_ header: Header) throws(MailMessageError) -> String {
        guard !header.name.isEmpty, header.name.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ":") })
        else { throw .invalidHeaderName(header.name) }
        guard !reservedHeaders.contains(header.name.lowercased()) else { throw .reservedHeader(header.name) }
        try checkHeaderText(header.value, header: header.name)
        guard header.value.utf8.allSatisfy({ $0 < 0x80 }) else { throw .nonASCIIHeaderValue(name: header.name) }
        let words = header.value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        return MIMEEncoding.fold(prefix: "\(header.name): ", words: words)
    }

    private static func part(type: String, body: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + MIMEEncoding.base64Lines(MIMEEncoding.canonicalLineBreaks(body).utf8)
    }

    /// RFC 5322 date-time in UTC, spelled out by hand because locale-dependent formatters could change it.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(weekdays[parts.weekday! - 1]), \(twoDigits(parts.day)) \(months[parts.month! - 1]) \(parts.year!) "
            + "\(twoDigits(parts.hour)):\(twoDigits(parts.minute)):\(twoDigits(parts.second)) +0000"
    }

    /// A stable 64-bit hash as hex: Swift's `hashValue` is seeded per process, so it cannot make a deterministic boundary.
    private static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
