import Acquiring
import LibFuzzerDriver

/// libFuzzer's callback: the input as a notification body of every kind, form-encoded and as
/// JSON; a broken invariant traps, so libFuzzer keeps the input as a crasher.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNotificationParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let violations = NotificationFuzzing.notificationViolations(body: body)
    if !violations.isEmpty { fatalError(violations.joined(separator: "\n")) }
    return 0
}

/// SwiftPM links an executable with `main` defined as `<module>_main`, which would shadow
/// libFuzzer's own `main`; this one hands over to libFuzzer's driver instead.
@_cdecl("NotificationParserFuzzer_main")
public func notificationParserFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var (argc, argv) = (argc, argv)
    return runLibFuzzer(&argc, &argv, fuzzNotificationParser)
}
