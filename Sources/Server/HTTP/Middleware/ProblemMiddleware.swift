import Billing
import Foundation
import Hummingbird
import Logging
import Storage

/// Turns every error into an `application/problem+json` response, so clients see one error shape,
/// and logs the unexpected ones (which become 500s without leaking internals).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as BillingError {
            return try Problem(error).response(from: request, context: context)
        } catch let error as DatabaseUnavailable {
            context.logger.warning("database unavailable", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try Problem.unavailable.response(from: request, context: context)
        } catch let error as HTTPError {
            let problem = Problem(error.status, type: Self.slug(error.status), title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase)
            return try problem.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            let problem = Problem(.internalServerError, type: "internal", title: "Internal error", detail: "Something went wrong on our side; it has been logged.")
            return try problem.response(from: request, context: context)
        }
    }

    private static func slug(_ status: HTTPResponse.Status) -> String {
        status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-")
    }
}
