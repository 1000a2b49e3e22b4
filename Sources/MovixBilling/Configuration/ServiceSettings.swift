import Acquiring
import Billing
import BillingCore
import Foundation
import Logging
import PostgresNIO
import SandboxAcquirer
import Server
import Storage

/// Development defaults: obvious placeholders that `dev` fills in and `serve` never assumes.
enum DevelopmentDefaults {
    static let jwtSecret = "movix-dev-jwt-secret-not-for-production"
    static let internalToken = "movix-dev-internal-token"
    static let publicID = "pk_sandbox_movix"
    static let apiSecret = "sandbox-api-secret"
    static let databaseName = "movix_billing"
}

extension Settings {
    /// The database for commands (migrate, audit, reconcile): statements may take as long as they need.
    func databaseConfiguration() throws -> PostgresClient.Configuration {
        try databaseConfiguration(statementTimeout: nil)
    }

    /// The database behind the HTTP API: a statement that runs past `MOVIX_DATABASE_STATEMENT_TIMEOUT`
    /// is cancelled by PostgreSQL, and a request waits at most `MOVIX_DATABASE_LEASE_TIMEOUT` for a
    /// connection, so no request is applied long after its client was told it failed.
    func servingDatabase() throws -> ServingDatabase {
        let leaseTimeout = try duration("MOVIX_DATABASE_LEASE_TIMEOUT", default: .seconds(2))
        let statementTimeout = try duration("MOVIX_DATABASE_STATEMENT_TIMEOUT", default: .seconds(5))
        return ServingDatabase(
            configuration: try databaseConfiguration(statementTimeout: statementTimeout, connectTimeout: leaseTimeout),
            leaseTimeout: leaseTimeout
        )
    }

    private func databaseConfiguration(statementTimeout: Duration?, connectTimeout: Duration = .seconds(10)) throws -> PostgresClient.Configuration {
        let url = try string("DATABASE_URL")
        let poolSize = try positiveInteger("MOVIX_DATABASE_POOL_SIZE", default: 8)
        do {
            return try DatabaseURL.configuration(from: url, poolSize: poolSize, statementTimeout: statementTimeout, connectTimeout: connectTimeout)
        } catch let error as DatabaseURL.Invalid {
            throw SettingError(name: "DATABASE_URL", problem: "is not a PostgreSQL URL: \(error)")
        }
    }

    /// Connection limits and timeouts of the HTTP server.
    func httpLimits() throws -> HTTPLimits {
        let defaults = HTTPLimits()
        return HTTPLimits(
            idleTimeout: try duration("MOVIX_HTTP_IDLE_TIMEOUT", default: defaults.idleTimeout),
            readTimeout: try duration("MOVIX_HTTP_READ_TIMEOUT", default: defaults.readTimeout),
            requestTimeout: try duration("MOVIX_HTTP_REQUEST_TIMEOUT", default: defaults.requestTimeout),
            maxConnections: try positiveInteger("MOVIX_HTTP_MAX_CONNECTIONS", default: defaults.maxConnections)
        )
    }

    func serverConfiguration(demoUserID: UUID? = nil) throws -> ServerConfiguration {
        let host = try string("MOVIX_HTTP_HOST", default: "127.0.0.1")
        let port = try port("MOVIX_HTTP_PORT", default: 8080)
        let tokenVerification: ServerConfiguration.TokenVerification
        if let pem = optional("MOVIX_JWT_PUBLIC_KEY") {
            tokenVerification = .rsaSHA256(publicKeyPEM: pem)
        } else if let secret = optional("MOVIX_JWT_SECRET") {
            // HS256 with a key shorter than its output is guessable, and JWTKit refuses it.
            guard secret.utf8.count >= 32 else { throw SettingError(name: "MOVIX_JWT_SECRET", problem: "must be at least 32 bytes long") }
            tokenVerification = .hmacSHA256(secret: secret)
        } else {
            throw SettingError(name: "MOVIX_JWT_SECRET", problem: "or MOVIX_JWT_PUBLIC_KEY is required to verify user tokens")
        }
        let cloudPayments = try cloudPaymentsConfiguration()
        return ServerConfiguration(
            host: host, port: port,
            publicURL: try url("MOVIX_PUBLIC_URL", default: "http://\(host):\(port)"),
            tokenVerification: tokenVerification,
            internalToken: try string("MOVIX_INTERNAL_TOKEN"),
            cloudPayments: cloudPayments,
            watchURL: try url("MOVIX_WATCH_URL", default: "https://movix.example/watch"),
            demoUserID: demoUserID,
            webOrigin: try optional("MOVIX_WEB_ORIGIN").map { _ in try url("MOVIX_WEB_ORIGIN", default: "") },
            jwtAudience: try string("MOVIX_JWT_AUDIENCE", default: DevelopmentTokens.defaultAudience),
            jwtIssuer: optional("MOVIX_JWT_ISSUER"),
            limits: try httpLimits(),
            refundPolicy: try refundPolicy(),
            renewalTerms: try renewalTerms()
        )
    }

    /// `MOVIX_CLOCK`: `system`, or `offset` for a clock that `POST /internal/v1/clock/advance`
    /// moves ahead (nil for the system clock).
    func clock(default fallback: String) throws -> OffsetClock? {
        switch optional("MOVIX_CLOCK") ?? fallback {
        case "system": return nil
        case "offset": return OffsetClock()
        case let other: throw SettingError(name: "MOVIX_CLOCK", problem: "must be system or offset, got \"\(other)\"")
        }
    }

    /// `MOVIX_RENEWAL_LEAD` (how long before a period ends its renewal is charged, default 24h)
    /// and `MOVIX_GRACE_PERIOD` (how long past due keeps access, default 3d), each at most 30 days.
    func renewalTerms() throws -> RenewalTerms {
        let standard = RenewalTerms.standard
        let lead = try duration("MOVIX_RENEWAL_LEAD", default: .seconds(standard.lead), atMostDays: 30)
        let grace = try duration("MOVIX_GRACE_PERIOD", default: .seconds(standard.dunning.grace), atMostDays: 30)
        let notice = try duration("MOVIX_RENEWAL_NOTICE", default: .seconds(standard.notice), atMostDays: 30)
        return RenewalTerms(
            lead: Double(lead.wholeMilliseconds) / 1000,
            dunning: DunningSchedule(retryDelays: standard.dunning.retryDelays, grace: Double(grace.wholeMilliseconds) / 1000),
            notice: Double(notice.wholeMilliseconds) / 1000
        )
    }

    /// `MOVIX_REFUND_POLICY`: `prorated` (the default) or `none`.
    func refundPolicy() throws -> RefundPolicy {
        guard let text = optional("MOVIX_REFUND_POLICY") else { return .prorated }
        guard let policy = RefundPolicy(rawValue: text) else {
            throw SettingError(name: "MOVIX_REFUND_POLICY", problem: "must be one of \(RefundPolicy.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return policy
    }

    /// The CloudPayments terminal: all that commands which only talk to the acquirer need.
    func cloudPaymentsConfiguration() throws -> CloudPaymentsConfiguration {
        CloudPaymentsConfiguration(
            apiURL: try url("MOVIX_CLOUDPAYMENTS_API_URL", default: CloudPaymentsConfiguration.productionAPIURL),
            publicID: try string("MOVIX_CLOUDPAYMENTS_PUBLIC_ID"),
            apiSecret: try string("MOVIX_CLOUDPAYMENTS_API_SECRET"),
            widgetScriptURL: try url("MOVIX_CLOUDPAYMENTS_WIDGET_URL", default: CloudPaymentsConfiguration.productionWidgetURL)
        )
    }

    func sandboxConfiguration() throws -> SandboxConfiguration {
        let serverPort = try port("MOVIX_HTTP_PORT", default: 8080)
        return SandboxConfiguration(
            host: try string("MOVIX_SANDBOX_HOST", default: "127.0.0.1"),
            port: try port("MOVIX_SANDBOX_PORT", default: 8090),
            publicID: try string("MOVIX_CLOUDPAYMENTS_PUBLIC_ID", default: DevelopmentDefaults.publicID),
            apiSecret: try string("MOVIX_CLOUDPAYMENTS_API_SECRET", default: DevelopmentDefaults.apiSecret),
            notificationBaseURL: try url("MOVIX_SANDBOX_NOTIFY_URL", default: "http://127.0.0.1:\(serverPort)/webhooks/cloudpayments")
        )
    }
}

/// The API's database pool and how long its callers wait (see `Database`).
struct ServingDatabase {
    var configuration: PostgresClient.Configuration
    var leaseTimeout: Duration

    /// The pool's client and the `Database` over it.
    func connect(logger: Logger) -> (PostgresClient, Database) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return (client, Database(client: client, logger: logger, leaseTimeout: leaseTimeout))
    }
}
