import Foundation
import Logging
import Mail
import Testing

@Suite("SMTP configuration from a URL")
struct SMTPConfigurationTests {
    @Test("smtp without credentials: port 25, STARTTLS when offered")
    func plainDefaults() throws {
        let configuration = try SMTPConfiguration(url: "smtp://mail.example.com")
        #expect(configuration.host == "mail.example.com")
        #expect(configuration.port == 25)
        #expect(configuration.encryption == .startTLSIfOffered)
        #expect(configuration.credentials == nil)
        #expect(configuration.caFile == nil)
        #expect(configuration.ehloName == "localhost")
    }

    @Test("smtp with credentials defaults to the submission port 587")
    func submissionDefault() throws {
        let configuration = try SMTPConfiguration(url: "smtp://billing:secret@mail.example.com")
        #expect(configuration.port == 587)
        #expect(configuration.credentials == SMTPCredentials(username: "billing", password: "secret"))
    }

    @Test("smtps is implicit TLS on port 465")
    func implicitTLS() throws {
        let configuration = try SMTPConfiguration(url: "smtps://billing:secret@mail.example.com")
        #expect(configuration.encryption == .implicitTLS)
        #expect(configuration.port == 465)
    }

    @Test("starttls policies, explicit port, ca_file and ehlo", arguments: [
        ("smtp://h:2525?starttls=never", SMTPConfiguration.Encryption.none),
        ("smtp://h:2525?starttls=required", .startTLSRequired),
        ("smtp://h:2525?starttls=auto", .startTLSIfOffered),
        ("SMTP://h:2525", .startTLSIfOffered),
    ])
    func policies(url: String, encryption: SMTPConfiguration.Encryption) throws {
        let configuration = try SMTPConfiguration(url: url)
        #expect(configuration.encryption == encryption)
        #expect(configuration.port == 2525)
    }

    @Test("options: ca_file (percent-decoded), ehlo, IPv6 host without brackets")
    func options() throws {
        let configuration = try SMTPConfiguration(url: "smtp://[::1]:2525?ca_file=/tmp/my%20ca.pem&ehlo=billing.movix.example")
        #expect(configuration.host == "::1")
        #expect(configuration.caFile == "/tmp/my ca.pem")
        #expect(configuration.ehloName == "billing.movix.example")
    }

    @Test("user and password are percent-decoded")
    func percentDecoding() throws {
        let configuration = try SMTPConfiguration(url: "smtp://bill%40movix:p%40ss%3Aw%2Fd%20%D0%AF@mail.example.com")
        #expect(configuration.credentials?.username == "bill@movix")
        #expect(configuration.credentials?.password == "p@ss:w/d Я")
    }

    @Test("a \"%\" that starts no valid escape is kept as it is")
    func strayPercent() throws {
        #expect(try SMTPConfiguration(url: "smtp://user:100%zz@h").credentials?.password == "100%zz")
    }

    @Test("credentials without encryption are accepted only for loopback hosts", arguments: ["localhost", "127.0.0.1", "[::1]"])
    func loopbackPlainAuth(host: String) throws {
        let configuration = try SMTPConfiguration(url: "smtp://u:p@\(host):2525?starttls=never")
        #expect(configuration.credentials != nil)
    }

    @Test("bad URLs are refused with a precise error", arguments: [
        ("not a url", SMTPConfigurationError.notAURL),
        ("http://mail.example.com", .unsupportedScheme("http")),
        ("smtp:/mail.example.com", .missingHost),
        ("smtp://", .missingHost),
        ("smtp://h:0", .invalidPort),
        ("smtp://h:70000", .invalidPort),
        ("smtp://h/inbox", .unexpectedComponent("path")),
        ("smtp://h#x", .unexpectedComponent("fragment")),
        ("smtp://h?tls=yes", .unknownParameter("tls")),
        ("smtp://h?starttls=sometimes", .invalidParameter(name: "starttls", value: "sometimes")),
        ("smtp://h?starttls", .invalidParameter(name: "starttls", value: "")),
        ("smtp://h?starttls=never&starttls=auto", .invalidParameter(name: "starttls", value: "auto")),
        ("smtps://h?starttls=required", .invalidParameter(name: "starttls", value: "required")),
        ("smtp://h?ehlo=two%20words", .invalidParameter(name: "ehlo", value: "two words")),
        ("smtp://user@h", .incompleteCredentials),
        ("smtp://:secret@h", .incompleteCredentials),
        ("smtp://user:@h", .incompleteCredentials),
        ("smtp://u:p@mail.example.com?starttls=never", .credentialsWithoutEncryption(host: "mail.example.com")),
        ("smtp://u:p@127.0.0.2?starttls=never", .credentialsWithoutEncryption(host: "127.0.0.2")),
    ])
    func refused(url: String, error: SMTPConfigurationError) {
        #expect(throws: error) { try SMTPConfiguration(url: url) }
    }

    @Test("the password appears in no printed form of the configuration or its errors")
    func passwordHidden() throws {
        let configuration = try SMTPConfiguration(url: "smtp://billing:s3cr3t@mail.example.com?ca_file=/ca.pem")
        #expect(configuration.description == "smtp://billing:***@mail.example.com:587?starttls=auto&ca_file=/ca.pem")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [configuration.description, String(reflecting: configuration), "\(configuration.credentials!)", dumped] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
        let error = #expect(throws: SMTPConfigurationError.self) { try SMTPConfiguration(url: "smtp://billing:s3cr3t@mail.example.com?bogus=1") }
        #expect(error.map { !"\($0)".contains("s3cr3t") } == true)
    }

    @Test("a ca_file that cannot be read fails when the client is made")
    func unreadableCAFile() throws {
        let configuration = try SMTPConfiguration(url: "smtp://localhost:2525?ca_file=/nonexistent/ca.pem")
        let error = #expect(throws: SMTPConfigurationError.self) {
            try SMTPClient(configuration: configuration, logger: Logger(label: "test"))
        }
        guard case .unreadableCAFile(let path, _) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(path == "/nonexistent/ca.pem")
    }
}
