import Foundation

/// One e-mail to one recipient, with everything that makes its rendering deterministic given by the caller.
public struct MailMessage: Sendable, Hashable {
    /// A header the renderer adds as it is (Reply-To, List-Unsubscribe...); ASCII only.
    public struct Header: Sendable, Hashable {
        /// The field name, such as `Reply-To`.
        public var name: String
        /// The field value, without line breaks; long values are folded at spaces.
        public var value: String

        /// A header with this name and value.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The author, also used as the envelope sender (MAIL FROM).
    public var from: MailAddress
    /// The single recipient, also the envelope recipient (RCPT TO).
    public var to: MailAddress
    /// The subject in any language; RFC 2047 encoded when it is not plain ASCII.
    public var subject: String
    /// The plain text body, always sent.
    public var textBody: String
    /// An HTML alternative; when present the message is multipart/alternative.
    public var htmlBody: String?
    /// `left@right`, with or without angle brackets; stable per logical message so a resend is recognisable.
    public var messageID: String
    /// The Date header; given by the caller so rendering is reproducible.
    public var date: Date
    /// Further headers, after the standard ones.
    public var extraHeaders: [Header]

    /// A message; nothing is validated until it is rendered.
    public init(
        from: MailAddress,
        to: MailAddress,
        subject: String,
        textBody: String,
        htmlBody: String? = nil,
        messageID: String,
        date: Date,
        extraHeaders: [Header] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
    }
}
