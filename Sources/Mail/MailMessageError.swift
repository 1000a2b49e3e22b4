/// Why a message cannot be rendered; the message itself must change before it can be sent.
public enum MailMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An address that is not a plain ASCII `local@domain`.
    case invalidAddress(String)
    /// A CR, LF or other control character in a header value: refused so that no caller text can add headers.
    case controlCharacterInHeader(name: String)
    /// An extra header whose name is not printable ASCII without a colon.
    case invalidHeaderName(String)
    /// An extra header the renderer writes itself (From, Subject, Content-Type...).
    case reservedHeader(String)
    /// An extra header value with non-ASCII text; it may be structured, so it cannot be encoded safely.
    case nonASCIIHeaderValue(name: String)
    /// A message id that is not `left@right` printable ASCII.
    case invalidMessageID(String)

    /// A sentence for logs and error reports.
    public var description: String {
        switch self {
        case .invalidAddress(let address): "invalid mail address \"\(address)\""
        case .controlCharacterInHeader(let name): "line break or control character in the \(name) header"
        case .invalidHeaderName(let name): "invalid header name \"\(name)\""
        case .reservedHeader(let name): "the \(name) header is set by the renderer, not as an extra header"
        case .nonASCIIHeaderValue(let name): "non-ASCII text in the extra header \(name)"
        case .invalidMessageID(let id): "invalid message id \"\(id)\""
        }
    }
}
