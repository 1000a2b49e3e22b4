import Foundation

/// A mailbox: the address SMTP delivers to and the name a mail client shows.
public struct MailAddress: Sendable, Hashable {
    /// The bare address, `local@domain`; ASCII only, since the client does not speak SMTPUTF8.
    public var address: String
    /// The name shown next to the address; any Unicode text, encoded on rendering.
    public var displayName: String?

    /// A mailbox with an optional display name.
    public init(_ address: String, displayName: String? = nil) {
        self.address = address
        self.displayName = displayName
    }

    /// The address checked for what SMTP envelopes and headers can carry.
    func validatedAddress() throws(MailMessageError) -> String {
        let forbidden = Set("<>()[]\\,;:\"@ ")
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty }),
              address.utf8.allSatisfy({ (0x21...0x7E).contains($0) }),
              !parts.contains(where: { $0.contains(where: forbidden.contains) })
        else { throw .invalidAddress(address) }
        return address
    }

    /// The mailbox as a header value word list: display name (plain, quoted or encoded), then `<address>`.
    func headerWords(header: String) throws(MailMessageError) -> [String] {
        let address = try validatedAddress()
        guard let name = displayName, !name.isEmpty else { return [address] }
        try MailMessage.checkHeaderText(name, header: header)
        let atext = Set("!#$%&'*+-/=?^_`{|}~ ")
        let nameWords: [String]
        if !MIMEEncoding.isPlainHeaderText(name) {
            nameWords = MIMEEncoding.encodedWords(name)
        } else if name.allSatisfy({ $0.isLetter || $0.isNumber || atext.contains($0) }) {
            nameWords = name.split(separator: " ").map(String.init)
        } else {
            // Specials such as "," or "." would otherwise split the name into several mailboxes or a syntax error.
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            nameWords = ["\"\(escaped)\""]
        }
        return nameWords + ["<\(address)>"]
    }
}
