import BillingCore
import Foundation
import Logging
import Mail

/// Email over SMTP (`MOVIX_SMTP_URL`), from `MOVIX_MAIL_FROM`.
public struct SMTPTransport: EmailTransport {
    let client: SMTPClient
    let from: MailAddress

    /// `from` is `Name <address>` or a bare address.
    public init(url: String, from: String, logger: Logger) throws {
        client = try SMTPClient(configuration: try SMTPConfiguration(url: url), logger: logger)
        self.from = Self.address(from)
    }

    public func send(_ email: Email) async -> EmailSendOutcome {
        let message = MailMessage(
            from: from, to: MailAddress(email.recipient), subject: email.subject, textBody: email.textBody, htmlBody: email.htmlBody,
            // The same for every try: a copy sent again after a crash is recognisably the same message.
            messageID: "<\(email.id.lowercased)@movix-billing>", date: email.createdAt,
            extraHeaders: [MailMessage.Header("Content-Language", email.language.rawValue)]
        )
        do {
            try await client.send(message)
            return .sent
        } catch {
            // Only a refusal of this message or its recipient is final. One of the server or of
            // our settings (a 554 greeting, a refused login or sender, TLS) is the same for every
            // email: retried, so that fixing it delivers what waited, not lost in the meantime.
            let aboutThisMessage = [SMTPError.Step.render, .rcptTo, .data].contains(error.step)
            return error.isTransient || !aboutThisMessage ? .retry(error.description) : .rejected(error.description)
        }
    }

    /// "Movix <billing@movix.example>" → name and address.
    static func address(_ text: String) -> MailAddress {
        guard let open = text.lastIndex(of: "<"), text.hasSuffix(">") else { return MailAddress(text.trimmingCharacters(in: .whitespaces)) }
        let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        return MailAddress(address, displayName: name.isEmpty ? nil : name)
    }
}
