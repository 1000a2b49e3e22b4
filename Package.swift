// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "movix-billing",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "movix-billing", targets: ["MovixBilling"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // Already in the graph through Hummingbird; named for NIOHTTP1's parser errors (a broken chunked body is a 400).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Already in the graph through AsyncHTTPClient; named for the SMTP client's STARTTLS and implicit TLS.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Money, plans, state machines, decline codes: plain Swift, no I/O.
        .target(name: "BillingCore"),
        // The Acquirer protocol and the CloudPayments adapter.
        .target(
            name: "Acquiring",
            dependencies: [
                "BillingCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // PostgreSQL: migrations and repositories, SQL in the open.
        .target(
            name: "Storage",
            dependencies: [
                "BillingCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Migrations")]
        ),
        // The use cases: checkout, notifications, payments, refunds, reconciliation, audit. No HTTP.
        .target(
            name: "Billing",
            dependencies: [
                "BillingCore", "Acquiring", "Storage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // A small SMTP client on SwiftNIO (no Swift SMTP package is in the set): STARTTLS, implicit TLS, AUTH.
        .target(
            name: "Mail",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Events delivered: the outbox published, signed webhooks, email rendered and sent over SMTP.
        .target(
            name: "Delivery",
            dependencies: [
                "BillingCore", "Storage", "Billing", "Mail",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("EmailTemplates")]
        ),
        // A throwaway PostgreSQL cluster under the project folder, for `dev` and the tests.
        .target(name: "LocalPostgres"),
        // The HTTP API, webhooks, payment page and ops routes.
        .target(
            name: "Server",
            dependencies: [
                "BillingCore", "Acquiring", "Storage", "Billing", "Delivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Resources")]
        ),
        // A CloudPayments-compatible emulator for development and tests.
        .target(
            name: "SandboxAcquirer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "MovixBilling",
            dependencies: [
                "BillingCore", "Acquiring", "Storage", "Billing", "Delivery", "Server", "SandboxAcquirer", "LocalPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        // scripts/bench-renewals: the worker's renewal path with an in-process acquirer. Not a product.
        .executableTarget(
            name: "RenewalBench",
            dependencies: [
                "BillingCore", "Acquiring", "Storage", "Billing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/RenewalBench"
        ),
        .testTarget(name: "BillingCoreTests", dependencies: ["BillingCore"]),
        // A real SMTP server for tests (scripts/smtp_sink.py). Not a product.
        .target(name: "MailSink", path: "Tests/MailSink"),
        .testTarget(
            name: "MailTests",
            dependencies: ["Mail", "MailSink", .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SandboxAcquirerTests",
            dependencies: [
                "SandboxAcquirer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "BillingCore", "Acquiring", "Storage", "Billing", "Delivery", "MailSink", "Server", "SandboxAcquirer", "LocalPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
