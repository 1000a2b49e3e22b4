// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the CloudPayments notification parser and the form decoder; scripts/fuzz
// builds and runs them. The library targets are symbolic links to the main package's sources
// (BillingCore, and only the Acquiring files the parser needs), so the parser is fuzzed as it
// ships, internal types included, without building the HTTP client, NIO and BoringSSL for it.
let package = Package(
    name: "movix-billing-fuzz",
    targets: [
        .target(name: "BillingCore"),
        .target(name: "Acquiring", dependencies: ["BillingCore"]),
        .target(name: "LibFuzzerDriver", swiftSettings: fuzzerSettings),
        .executableTarget(name: "NotificationParserFuzzer", dependencies: ["Acquiring", "LibFuzzerDriver"]),
        .executableTarget(name: "FormDecoderFuzzer", dependencies: ["Acquiring", "LibFuzzerDriver"]),
    ]
)

// `@_extern(c)` declares libFuzzer's driver function without a C module for one prototype.
var fuzzerSettings: [SwiftSetting] { [.enableExperimentalFeature("Extern")] }
