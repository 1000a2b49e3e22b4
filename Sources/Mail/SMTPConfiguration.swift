import Foundation

/// Where and how to deliver mail, usually parsed from `MOVIX_SMTP_URL`.
///
/// URL form: `smtp://[user:pass@]host[:port][?starttls=auto|never|required][&ca_file=/path.pem][&ehlo=name]`
/// or `smtps://[user:pass@]host[:port][?ca_file=...][&ehlo=...]`. Default ports: smtps 465; smtp 587 with
/// credentials (submission), 25 without (relay). User and password are percent-decoded (a stray `%` stays literal).
public struct SMTPConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// How the connection gets encrypted.
    public enum Encryption: String, Sendable, Hashable {
        /// STARTTLS when the server offers it, certificate verified; plain text otherwise, but then no credentials unless the host is loopback.
        case startTLSIfOffered = "auto"
        /// STARTTLS or fail: for a server that must never see the message in clear.
        case startTLSRequired = "required"
        /// Never STARTTLS: for a local sink with no certificate.
        case none = "never"
        /// TLS from the first byte (SMTPS).
        case implicitTLS = "smtps"
    }

    /// The server's name or IP address (without IPv6 brackets); also the name its certificate must match.
    public let host: String
    /// The TCP port.
    public let port: Int
    /// STARTTLS policy or implicit TLS.
    public let encryption: Encryption
    /// AUTH credentials, if the server wants them.
    public let credentials: SMTPCredentials?
    /// A PEM file of extra trusted roots, added to the system ones (a private CA, a test's self-signed certificate).
    public let caFile: String?
    /// The name this client gives in EHLO/HELO; some relays refuse `localhost`.
    public let ehloName: String

    /// A checked configuration; throws when credentials would travel in clear to a host that is not loopback.
    public init(
        host: String,
        port: Int,
        encryption: Encryption = .startTLSIfOffered,
        credentials: SMTPCredentials? = nil,
        caFile: String? = nil,
        ehloName: String = "localhost"
    ) throws(SMTPConfigurationError) {
        guard !host.isEmpty else { throw .missingHost }
        guard (1...65535).contains(port) else { throw .invalidPort }
        guard !ehloName.isEmpty, ehloName.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .invalidParameter(name: "ehlo", value: ehloName)
        }
        if credentials != nil, encryption == .none, !Self.isLoopback(host) {
            throw .credentialsWithoutEncryption(host: host)
        }
        self.host = host
        self.port = port
        self.encryption = encryption
        self.credentials = credentials
        self.caFile = caFile
        self.ehloName = ehloName
    }

    /// Parses an `smtp://` or `smtps://` URL (see the type's documentation).
    public init(url text: String) throws(SMTPConfigurationError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else { throw .notAURL }
        guard scheme == "smtp" || scheme == "smtps" else { throw .unsupportedScheme(scheme) }
        guard let encodedHost = url.percentEncodedHost, !encodedHost.isEmpty else { throw .missingHost }
        guard !encodedHost.contains("%") else { throw .unexpectedComponent("non-ASCII host (give its punycode form)") }
        guard url.path.isEmpty || url.path == "/" else { throw .unexpectedComponent("path") }
        guard url.fragment == nil else { throw .unexpectedComponent("fragment") }

        // URLComponents percent-decodes these, and keeps a stray "%" that starts no valid escape as it is.
        let credentials = try Self.credentials(user: url.user, password: url.password)
        var parameters: [String: String] = [:]
        for item in url.queryItems ?? [] {
            guard ["starttls", "ca_file", "ehlo"].contains(item.name) else { throw .unknownParameter(item.name) }
            guard let value = item.value, !value.isEmpty, parameters[item.name] == nil else {
                throw .invalidParameter(name: item.name, value: item.value ?? "")
            }
            parameters[item.name] = value
        }

        let encryption: Encryption
        if scheme == "smtps" {
            // STARTTLS inside smtps means nothing; saying it is a misunderstanding worth reporting.
            if let policy = parameters["starttls"] { throw .invalidParameter(name: "starttls", value: policy) }
            encryption = .implicitTLS
        } else if let policy = parameters["starttls"] {
            guard let parsed = Encryption(rawValue: policy), parsed != .implicitTLS else {
                throw .invalidParameter(name: "starttls", value: policy)
            }
            encryption = parsed
        } else {
            encryption = .startTLSIfOffered
        }

        let defaultPort = encryption == .implicitTLS ? 465 : (credentials == nil ? 25 : 587)
        let host = encodedHost.hasPrefix("[") && encodedHost.hasSuffix("]") ? String(encodedHost.dropFirst().dropLast()) : encodedHost
        try self.init(
            host: host,
            port: url.port ?? defaultPort,
            encryption: encryption,
            credentials: credentials,
            caFile: parameters["ca_file"],
            ehloName: parameters["ehlo"] ?? "localhost"
        )
    }

    private static func credentials(user: String?, password: String?) throws(SMTPConfigurationError) -> SMTPCredentials? {
        guard user != nil || password != nil else { return nil }
        guard let user, let password, !user.isEmpty, !password.isEmpty else { throw .incompleteCredentials }
        return SMTPCredentials(username: user, password: password)
    }

    /// Whether the host is this machine, where a plain-text AUTH cannot be overheard.
    static func isLoopback(_ host: String) -> Bool {
        ["localhost", "127.0.0.1", "::1"].contains(host.lowercased())
    }

    /// The configuration as a URL with the password masked.
    public var description: String {
        let userPart = credentials.map { "\($0.username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? ""):***@" } ?? ""
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let scheme = encryption == .implicitTLS ? "smtps" : "smtp"
        var options = encryption == .implicitTLS ? [] : ["starttls=\(encryption.rawValue)"]
        if let caFile { options.append("ca_file=\(caFile)") }
        if ehloName != "localhost" { options.append("ehlo=\(ehloName)") }
        return "\(scheme)://\(userPart)\(hostPart):\(port)" + (options.isEmpty ? "" : "?" + options.joined(separator: "&"))
    }
}
