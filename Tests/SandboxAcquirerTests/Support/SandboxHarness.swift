import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import SandboxAcquirer

/// A running sandbox, wired to a recording merchant, both on ephemeral loopback ports, plus a real HTTP client.
struct SandboxHarness: Sendable {
    static let publicID = "pk_test_sandbox"
    static let apiSecret = "test-api-secret"

    let baseURL: String
    let recorder: NotificationRecorder

    static func run(
        faults: SandboxFaults = SandboxFaults(),
        retrySchedule: [Duration] = [.milliseconds(50), .milliseconds(50)],
        checkCode: Int = 0,
        _ body: @Sendable (SandboxHarness) async throws -> Void
    ) async throws {
        let logger = {
            var logger = Logger(label: "sandbox-tests")
            logger.logLevel = .error
            return logger
        }()
        let recorder = NotificationRecorder(checkCode: checkCode)
        let merchant = Application(router: recorder.router(), logger: logger)
        try await merchant.test(.live) { merchantClient in
            let configuration = SandboxConfiguration(
                host: "127.0.0.1",
                port: 0,
                publicID: publicID,
                apiSecret: apiSecret,
                notificationBaseURL: "http://localhost:\(merchantClient.port!)/webhooks/cloudpayments",
                faults: faults,
                retrySchedule: retrySchedule
            )
            try await buildSandboxApplication(configuration: configuration, logger: logger).test(.live) { client in
                try await body(SandboxHarness(baseURL: "http://localhost:\(client.port!)", recorder: recorder))
            }
        }
    }

    /// An HTTP exchange as the client saw it.
    struct Exchange: Sendable {
        let status: UInt
        let body: String

        var envelope: Envelope {
            get throws { try Envelope.decoder.decode(Envelope.self, from: Data(body.utf8)) }
        }
    }

    enum Credentials {
        case terminal, none, wrongSecret
    }

    /// POSTs a JSON body to an API method.
    func api(
        _ path: String,
        _ fields: [String: Any],
        credentials: Credentials = .terminal,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(20)
    ) async throws -> Exchange {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        return try await send(path, body: json, contentType: "application/json", credentials: credentials, headers: headers, timeout: timeout)
    }

    /// Replaces the fault switches (`PUT /sandbox/faults`) with this JSON object.
    func setFaults(_ json: String) async throws {
        let answer = try await send("/sandbox/faults", method: .PUT, body: json, contentType: "application/json")
        guard answer.status == 200 else { throw HarnessError("PUT /sandbox/faults answered \(answer.status): \(answer.body)") }
    }

    func send(
        _ pathOrURL: String,
        method: HTTPMethod = .POST,
        body: String? = nil,
        contentType: String? = nil,
        credentials: Credentials = .terminal,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(20)
    ) async throws -> Exchange {
        var request = HTTPClientRequest(url: pathOrURL.hasPrefix("http") ? pathOrURL : baseURL + pathOrURL)
        request.method = method
        switch credentials {
        case .terminal: request.headers.add(name: "Authorization", value: Self.basic(Self.publicID, Self.apiSecret))
        case .wrongSecret: request.headers.add(name: "Authorization", value: Self.basic(Self.publicID, "guess"))
        case .none: break
        }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let responseBody = try await response.body.collect(upTo: 1 << 20)
        return Exchange(status: response.status.code, body: String(buffer: responseBody))
    }

    private static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}

/// A harness step that did not go as a test needs it to.
struct HarnessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The CloudPayments envelope, with the `Model` fields the tests look at (names with a lowercase first letter).
struct Envelope: Decodable {
    let success: Bool
    let message: String?
    let model: Model?

    struct Model: Decodable {
        let transactionId: Int64?
        let amount: Decimal?
        let status: String?
        let statusCode: Int?
        let reason: String?
        let reasonCode: Int?
        let cardHolderMessage: String?
        let token: String?
        let acsUrl: String?
        let paReq: String?
        let cardFirstSix: String?
        let cardLastFour: String?
        let testMode: Bool?
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let key = path.last!.stringValue
            return LowercasedKey(stringValue: key.prefix(1).lowercased() + key.dropFirst())
        }
        return decoder
    }()

    private struct LowercasedKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
