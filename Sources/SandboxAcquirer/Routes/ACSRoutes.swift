import Hummingbird

/// The 3-D Secure page (the `AcsUrl` a challenge points to). GET or a form POST without `decision` shows it, as the
/// merchant's page posts `PaReq`, `MD` and `TermUrl` here; a POST with `decision=confirm|reject` produces the `PaRes`.
struct ACSRoutes {
    let transactions: TransactionStore

    func register(on router: Router<SandboxRequestContext>) {
        router.get("acs/:transactionID") { request, context in
            try await respond(context: context, fields: FormFields(encoded: request.uri.query ?? ""), accept: nil)
        }
        router.post("acs/:transactionID") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            return try await respond(context: context, fields: FormFields(encoded: String(buffer: body)), accept: request.headers[.accept])
        }
    }

    private func respond(
        context: SandboxRequestContext,
        fields: FormFields,
        accept: String?
    ) async throws -> Response {
        let id = try context.parameters.require("transactionID", as: Int64.self)
        guard let transaction = await transactions.transaction(id: id), transaction.pendingChallenge != nil else {
            return ACSPage.unknownSession()
        }
        let termURL = fields["TermUrl"]
        guard let decision = fields["decision"].flatMap(AuthenticationResult.Decision.init(rawValue:)) else {
            return ACSPage.challenge(for: transaction, termURL: termURL, md: fields["MD"])
        }
        let result = AuthenticationResult(transactionID: id, decision: decision)
        let md = fields["MD"] ?? String(id)
        if accept?.contains("application/json") == true {
            return .json(.object([("PaRes", .string(result.paRes)), ("MD", .string(String(id)))]))
        }
        return ACSPage.decision(result, termURL: termURL, md: md)
    }
}
