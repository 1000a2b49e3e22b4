import Foundation
import Hummingbird

/// Lets through only requests with the terminal's credentials (HTTP Basic, Public ID and API secret); others get 401.
struct BasicAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    private let expectedAuthorization: [UInt8]

    init(publicID: String, apiSecret: String) {
        expectedAuthorization = Array(("Basic " + Data("\(publicID):\(apiSecret)".utf8).base64EncodedString()).utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization], constantTimeEquals(Array(authorization.utf8), expectedAuthorization) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"CloudPayments sandbox\""])
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so response timing does not reveal how much of a guess was right.
    private func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
