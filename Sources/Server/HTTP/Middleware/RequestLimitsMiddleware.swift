import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// Reads every request body whole before the route sees it, and bounds each request in time:
/// - a body larger than the context allows: 413, declared or chunked, before it is all read;
/// - a body whose chunked framing is broken: 400;
/// - a body that has not arrived within `readTimeout`: 408;
/// - a request with a body still running after `requestTimeout`: it is cancelled, and awaited, so
///   that the answer says what really happened: its own response if it finished after all, 503 if not.
struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    let limits: HTTPLimits

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // All digits but more than an Int holds is larger than any limit, not unknown.
        if let length = request.headers[.contentLength], !length.isEmpty, length.allSatisfy(\.isASCII), length.allSatisfy(\.isNumber),
           Int(length).map({ $0 > context.maxUploadSize }) ?? true {
            throw Self.tooLarge(context)
        }
        // Without a body (the GETs, the entitlement reads among them) there is nothing to read, and
        // the work is bounded by the database's lease and statement timeouts: no timers, which
        // would cost two tasks a request on the hottest paths.
        guard request.headers[.transferEncoding] != nil || (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0 else {
            return try await next(request, context)
        }
        let phase = RequestPhase()
        return try await withoutActuallyEscaping(next) { next in
            let next = UncheckedSendableNext<Context>(call: next)
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    var request = request
                    request.body = RequestBody(buffer: try await Self.readBody(request, context: context))
                    phase.bodyRead()
                    return .response(try await next.call(request, context))
                }
                group.addTask {
                    try await Task.sleep(for: limits.readTimeout)
                    if phase.isReadingBody { return .timedOut }
                    try await Task.sleep(for: limits.requestTimeout - limits.readTimeout)
                    return .timedOut
                }
                let first = try await group.next()
                group.cancelAll()
                if case .response(let response) = first { return response }
                // Timed out: the request stops at its next point of cancellation. Work that has
                // begun is finished (statements and acquirer calls have timeouts of their own).
                do {
                    if case .response(let response) = try await group.next() { return response }
                } catch is CancellationError {}
                throw phase.isReadingBody
                    ? Problem(.requestTimeout, type: "request-timeout", title: "Request body too slow", detail: "The request body did not arrive within \(limits.readTimeout).")
                    : Problem(.serviceUnavailable, type: "timeout", title: "Request timed out", detail: "The request did not finish within \(limits.requestTimeout) and was stopped. Try again.")
            }
        }
    }

    private static func readBody(_ request: Request, context: Context) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw tooLarge(context)
        } catch let error as HTTPParserError {
            throw Problem.badRequest("The request body is not valid HTTP framing (\(error)).")
        }
    }

    private static func tooLarge(_ context: Context) -> Problem {
        Problem(.contentTooLarge, type: "body-too-large", title: "Request body too large", detail: "Request bodies are limited to \(context.maxUploadSize) bytes.")
    }

    private enum Outcome: Sendable {
        case response(Response)
        case timedOut
    }
}

/// Whether a request is still receiving its body or already being handled.
private final class RequestPhase: Sendable {
    private let reading = Mutex(true)

    var isReadingBody: Bool { reading.withLock { $0 } }

    func bodyRead() {
        reading.withLock { $0 = false }
    }
}

/// The rest of the middleware chain, carried into the child task that runs it. Sound because the
/// middleware awaits that task before returning and never calls `next` itself.
private struct UncheckedSendableNext<Context>: @unchecked Sendable {
    let call: (Request, Context) async throws -> Response
}
