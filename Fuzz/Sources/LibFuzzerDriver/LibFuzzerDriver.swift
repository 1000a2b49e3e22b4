/// libFuzzer's driver (compiler-rt's `LLVMFuzzerRunDriver`): parses libFuzzer's flags from the
/// command line and runs `callback` on every input.
@_extern(c, "LLVMFuzzerRunDriver")
public func runLibFuzzer(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
