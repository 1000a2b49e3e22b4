/// The names the sandbox gives itself where CloudPayments would name a bank or a gateway.
enum SandboxIdentity {
    static let issuer = "Sandbox Bank"
    static let gateway = "Sandbox"
}
