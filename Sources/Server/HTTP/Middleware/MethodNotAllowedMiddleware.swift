import HTTPTypes
import Hummingbird

/// Answers 405 with `Allow` for a path the API serves under other methods; Hummingbird's router
/// says 404 for any method it has no route for, which tells a client the path is wrong.
/// Added after every route, so that it sees only requests no route took.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let routes: [(path: RouterPath, method: HTTPRequest.Method)]

    init(routes: [Router<Context>.RouteDescription]) {
        self.routes = routes.map { ($0.path, $0.method) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && request.method != .head {
            // HEAD stays a 404: answering it 405 with `Allow: GET` would be wrong where GET works.
            let path = request.uri.path.split(separator: "/")
            let allowed = Set(routes.filter { Self.matches($0.path, path) }.map(\.method.rawValue)).sorted()
            guard !allowed.isEmpty else { throw error }
            throw Problem(
                .methodNotAllowed, type: "method-not-allowed", title: "Method not allowed",
                detail: "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method).",
                headers: [.allow: allowed.joined(separator: ", ")]
            )
        }
    }

    /// Whether a route's path takes these segments; the API's routes have no recursive wildcards.
    private static func matches(_ route: RouterPath, _ path: [Substring]) -> Bool {
        route.components.count == path.count && zip(route.components, path).allSatisfy { $0 ~= $1 }
    }
}
