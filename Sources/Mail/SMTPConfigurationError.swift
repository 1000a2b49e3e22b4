/// Why an SMTP URL or setting is unusable; the text never repeats a password.
public enum SMTPConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not parseable as a URL at all (the text is not echoed: it may hold a password).
    case notAURL
    /// A scheme other than `smtp` or `smtps`.
    case unsupportedScheme(String)
    /// No host after the scheme.
    case missingHost
    /// A port outside 1...65535.
    case invalidPort
    /// A path, fragment or similar part the URL cannot have.
    case unexpectedComponent(String)
    /// A query parameter the client does not know (a typo would otherwise be silently ignored).
    case unknownParameter(String)
    /// A known query parameter with a value it cannot take, or given twice.
    case invalidParameter(name: String, value: String)
    /// A user without a password or a password without a user.
    case incompleteCredentials
    /// Credentials on a connection that would never be encrypted, to a host that is not this machine.
    case credentialsWithoutEncryption(host: String)
    /// The `ca_file` could not be loaded as PEM certificates.
    case unreadableCAFile(path: String, reason: String)

    /// A sentence for logs and error reports, without any password.
    public var description: String {
        switch self {
        case .notAURL: "SMTP URL is not a valid URL (expected smtp://[user:pass@]host[:port][?options] or smtps://...)"
        case .unsupportedScheme(let scheme): "SMTP URL scheme \"\(scheme)\" is not supported (use smtp or smtps)"
        case .missingHost: "SMTP URL has no host"
        case .invalidPort: "SMTP URL port must be between 1 and 65535"
        case .unexpectedComponent(let component): "SMTP URL cannot have a \(component)"
        case .unknownParameter(let name): "SMTP URL parameter \"\(name)\" is unknown (known: starttls, ca_file, ehlo)"
        case .invalidParameter(let name, let value): "SMTP URL parameter \(name)=\"\(value)\" is invalid or repeated"
        case .incompleteCredentials: "SMTP URL must give both a user and a password, or neither"
        case .credentialsWithoutEncryption(let host):
            "SMTP credentials would go unencrypted to \(host); use STARTTLS or smtps (only loopback hosts may skip it)"
        case .unreadableCAFile(let path, let reason): "SMTP ca_file \(path) cannot be loaded: \(reason)"
        }
    }
}
