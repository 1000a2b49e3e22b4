import Hummingbird

/// Applies the API faults before a call reaches its handler: the configured latency, then a random HTTP 500
/// that changes nothing (and so is not remembered for `X-Request-ID` replays either).
struct FaultInjectionMiddleware<Context: RequestContext>: RouterMiddleware {
    let faults: FaultSwitchboard

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let current = await faults.current
        if current.apiLatencyMs > 0 {
            try await Task.sleep(for: .milliseconds(current.apiLatencyMs))
        }
        if current.apiErrorRate > 0, Double.random(in: 0..<1) < current.apiErrorRate {
            context.logger.info("Answering HTTP 500 by fault injection", metadata: ["path": "\(request.uri.path)"])
            return APIResponse(success: false, message: "Internal server error (injected by the sandbox)", status: .internalServerError).httpResponse
        }
        return try await next(request, context)
    }
}
