import Foundation
import Hummingbird

/// The sandbox's own routes, outside the CloudPayments API: fault switches and a readiness probe.
struct ControlRoutes {
    let faults: FaultSwitchboard

    func register(on router: Router<SandboxRequestContext>, authenticated: RouterGroup<SandboxRequestContext>) {
        router.get("sandbox/health") { _, _ in
            Response.json(.object([("status", .string("ok"))]))
        }
        authenticated.get("sandbox/faults") { _, _ in
            try Self.faultsResponse(await faults.current)
        }
        // Replaces every switch at once; keys left out are off, so a PUT always leaves a known state.
        authenticated.put("sandbox/faults") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            guard let replacement = try? JSONDecoder().decode(SandboxFaults.self, from: Data(String(buffer: body).utf8)) else {
                throw HTTPError(.badRequest, message: "Body must be a JSON object of fault switches")
            }
            if let problem = replacement.validationProblem {
                throw HTTPError(.badRequest, message: problem)
            }
            await faults.replace(with: replacement)
            context.logger.info("Fault switches replaced", metadata: ["faults": "\(replacement)"])
            return try Self.faultsResponse(replacement)
        }
    }

    private static func faultsResponse(_ faults: SandboxFaults) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(faults)))
        )
    }
}
