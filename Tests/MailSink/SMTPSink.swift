import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server for tests: a `scripts/smtp_sink.py` process (aiosmtpd) owned by one test, with
/// its own temporary directory, stopped by the PID the test started.
public final class SMTPSink: @unchecked Sendable {
    /// How the sink encrypts.
    public enum Encryption: Sendable { case none, startTLS, implicitTLS }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public let host: String
    public let port: Int
    /// The self-signed certificate the sink presents (CN and SAN localhost, 127.0.0.1), when it does TLS.
    public let certificatePath: String?
    private let directory: URL
    private let mailDirectory: URL
    private let process: Process

    private init(host: String, port: Int, certificatePath: String?, directory: URL, process: Process) {
        self.host = host
        self.port = port
        self.certificatePath = certificatePath
        self.directory = directory
        self.mailDirectory = directory.appendingPathComponent("mail")
        self.process = process
    }

    /// Starts a sink on `port` (0: a free one) and waits (generously: the machine may be loaded)
    /// until it has written its port.
    public static func start(
        encryption: Encryption = .none, auth: String? = nil, authMechanisms: String? = nil, host: String = "127.0.0.1", port: Int = 0
    ) async throws -> SMTPSink {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("movix-mail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            return try await start(in: directory, encryption: encryption, auth: auth, authMechanisms: authMechanisms, host: host, port: port)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    private static func start(
        in directory: URL, encryption: Encryption, auth: String?, authMechanisms: String?, host: String, port: Int
    ) async throws -> SMTPSink {
        let portFile = directory.appendingPathComponent("port")
        let stderrFile = directory.appendingPathComponent("stderr.log")
        var arguments = [
            repositoryRoot.appendingPathComponent("scripts/smtp_sink.py").path,
            "--host", host, "--port", String(port), "--port-file", portFile.path,
            "--dir", directory.appendingPathComponent("mail").path,
        ]
        var certificatePath: String?
        if encryption != .none {
            let (certificate, key) = try makeSelfSignedCertificate(in: directory)
            certificatePath = certificate
            arguments += [encryption == .startTLS ? "--starttls" : "--tls", certificate, key]
        }
        if let auth { arguments += ["--auth", auth] }
        if let authMechanisms { arguments += ["--auth-mechanisms", authMechanisms] }

        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()

        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return SMTPSink(host: host, port: port, certificatePath: certificatePath, directory: directory, process: process)
            }
            if !process.isRunning {
                let stderr = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
                let hint = stderr.contains("aiosmtpd") ? " — install it: apt-get install python3-aiosmtpd" : ""
                throw SinkFailure("smtp_sink.py exited with status \(process.terminationStatus) before listening\(hint):\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw SinkFailure("smtp_sink.py did not write its port within 60 s")
    }

    /// Stops the process this test started (SIGTERM, SIGKILL after 15 s) and removes its files;
    /// returns whether it exited cleanly (0 on SIGTERM). Waits without blocking a thread of the
    /// test runner's pool: a blocked one stalls every test in the process.
    @discardableResult
    public func stop() async -> Bool {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        var clean = false
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        } else {
            clean = process.terminationReason == .exit && process.terminationStatus == 0
        }
        try? FileManager.default.removeItem(at: directory)
        return clean
    }

    /// The SMTP URL of this sink for a client without TLS.
    public var url: String { "smtp://\(host):\(port)?starttls=never" }

    /// The stored .eml files, in delivery order.
    public func deliveredFiles() throws -> [URL] {
        guard FileManager.default.fileExists(atPath: mailDirectory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: mailDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "eml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The stored messages as Python's `email` package reads them: an independent MIME parser checks the rendering.
    public func deliveredMessages() throws -> [ParsedMail] {
        let files = try deliveredFiles()
        guard !files.isEmpty else { return [] }
        let output = try run("/usr/bin/python3", ["-c", ParsedMail.parserScript] + files.map(\.path))
        return try JSONDecoder().decode([ParsedMail].self, from: Data(output.utf8))
    }
}

/// A delivered message's fields, decoded by Python's `email` package.
public struct ParsedMail: Decodable, Sendable {
    public var envelopeFrom: String
    public var envelopeTo: [String]
    public var from: String
    public var to: String
    public var subject: String
    public var messageID: String
    public var contentLanguage: String?
    public var contentType: String
    public var text: String
    public var html: String?
    public var defects: [String]

    static let parserScript = """
        import email, email.policy, json, sys
        out = []
        for path in sys.argv[1:]:
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            html = m.get_body(("html",))
            out.append(dict(
                envelopeFrom=m["X-Sink-Mail-From"], envelopeTo=m.get_all("X-Sink-Rcpt-To"),
                subject=str(m["Subject"]), messageID=str(m["Message-ID"]), contentLanguage=m["Content-Language"], contentType=m.get_content_type(),
                text=m.get_body(("plain",)).get_content(), html=html.get_content() if html else None,
                defects=[repr(d) for part in m.walk() for d in part.defects],
                **{"from": str(m["From"]), "to": str(m["To"])}))
        print(json.dumps(out))
        """
}

/// The sink could not start.
public struct SinkFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A key and a self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI.
public func makeSelfSignedCertificate(in directory: URL) throws -> (certificate: String, key: String) {
    let certificate = directory.appendingPathComponent("cert.pem").path
    let key = directory.appendingPathComponent("key.pem").path
    _ = try run("/usr/bin/openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ])
    return (certificate, key)
}

/// Runs a short command and returns its standard output; throws with its standard error when it fails.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdout = Pipe(), stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SinkFailure("\(executable) \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self)
}
