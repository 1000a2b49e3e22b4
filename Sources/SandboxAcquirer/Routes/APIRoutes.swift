import Foundation
import HTTPTypes
import Hummingbird

/// The CloudPayments API methods: every one a POST behind Basic auth and the API faults, answering the usual envelope,
/// and replayed from the idempotency cache when `X-Request-ID` repeats.
struct APIRoutes {
    let processor: PaymentProcessor
    let operations: TransactionOperations
    let transactions: TransactionStore
    let vault: TokenVault
    let idempotency: IdempotencyCache
    let faults: FaultSwitchboard

    func register(on api: RouterGroup<SandboxRequestContext>) {
        endpoint("test", on: api) { _ throws(RequestError) in
            .success(message: UUID().uuidString)
        }
        endpoint("payments/cards/charge", on: api) { fields throws(RequestError) in
            await processor.pay(try CardPaymentRequest(fields: fields, captureMode: .charge)).apiResponse
        }
        endpoint("payments/cards/auth", on: api) { fields throws(RequestError) in
            await processor.pay(try CardPaymentRequest(fields: fields, captureMode: .auth)).apiResponse
        }
        endpoint("payments/cards/post3ds", on: api) { fields throws(RequestError) in
            try await processor.completeAuthentication(
                transactionID: try fields.transactionID(), paRes: try fields.requiredText("PaRes")
            ).apiResponse
        }
        // Like a refund's, a charge's timeout happens after the charge: the card is charged all the same.
        endpoint("payments/tokens/charge", on: api, answerDelay: { .milliseconds(await faults.current.chargeTimeoutMs) }) { fields throws(RequestError) in
            try await processor.pay(try TokenPaymentRequest(fields: fields)).apiResponse
        }
        endpoint("payments/confirm", on: api) { fields throws(RequestError) in
            try await operations.confirm(transactionID: try fields.transactionID(), amount: try fields.amount())
            return .success()
        }
        endpoint("payments/void", on: api) { fields throws(RequestError) in
            try await operations.void(transactionID: try fields.transactionID())
            return .success()
        }
        // A refund timeout happens after the refund: the answer is late, the money has moved all the same.
        endpoint("payments/refund", on: api, answerDelay: { .milliseconds(await faults.current.refundTimeoutMs) }) { fields throws(RequestError) in
            let refund = try await operations.refund(transactionID: try fields.transactionID(), amount: try fields.amount())
            return .success(model: .object([("TransactionId", .number(String(refund.id)))]))
        }
        endpoint("payments/get", on: api) { fields throws(RequestError) in
            guard let transaction = await transactions.transaction(id: try fields.transactionID()) else { throw .notFound }
            return .lookedUp(transaction)
        }
        endpoint("v2/payments/find", on: api) { fields throws(RequestError) in
            guard let transaction = await transactions.latestTransaction(invoiceID: try fields.requiredText("InvoiceId")) else {
                throw .notFound
            }
            return .lookedUp(transaction)
        }
        endpoint("payments/tokens/list", on: api) { _ throws(RequestError) in
            .success(model: .array(await vault.allCards().map(\.apiModel)))
        }
    }

    /// `answerDelay`, read when the call arrives, holds back the answer (a replayed one too) after the work is done.
    private func endpoint(
        _ path: String,
        on api: RouterGroup<SandboxRequestContext>,
        answerDelay: (@Sendable () async -> Duration)? = nil,
        _ perform: @escaping @Sendable (APIFields) async throws(RequestError) -> APIResponse
    ) {
        api.post(RouterPath(path)) { request, context in
            let delay = await answerDelay?() ?? .zero
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let contentType = request.headers[.contentType]
            let operation: @Sendable () async -> APIResponse = {
                do throws(RequestError) {
                    return try await perform(try APIFields(contentType: contentType, body: body))
                } catch {
                    return .failure(error)
                }
            }
            let response: APIResponse
            if let requestID = request.headers[.requestID], !requestID.isEmpty {
                response = await idempotency.response(for: requestID, orPerform: operation)
            } else {
                response = await operation()
            }
            if delay > .zero {
                try await Task.sleep(for: delay)
            }
            return response.httpResponse
        }
    }
}

extension HTTPField.Name {
    /// CloudPayments' idempotency key header.
    static let requestID = HTTPField.Name("X-Request-ID")!
}
