import Billing
import Foundation
import HummingbirdTesting
import NIOCore
import Prometheus
import Server
import Testing

@Suite("OpenAPI contract")
struct OpenAPITests {
    /// `METHOD /path/{param}` for every operation under `paths:` in the served document.
    static func documentedOperations(_ yaml: String) -> Set<String> {
        var operations = Set<String>()
        var path: String?
        var inPaths = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" }) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test("/openapi.yaml describes exactly the routes the server has")
    func documentMatchesRouter() async throws {
        try await withTestDatabase { database in
            let router = try await buildRouter(
                configuration: TestServer.configuration(), database: database, httpClient: .shared,
                metricsRegistry: PrometheusCollectorRegistry(), clockControl: OffsetClock(), logger: testLogger
            )
            let served = Set(router.routes.map { route in
                let path = route.path.description.split(separator: "/").map { segment in
                    segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
                }.joined(separator: "/")
                return "\(route.method) /\(path)"
            })
            try await TestServer.run(database: database) { client in
                let response = try await client.execute(uri: "/openapi.yaml", method: .get)
                #expect(response.status == .ok)
                let documented = Self.documentedOperations(String(buffer: response.body))
                #expect(documented.count > 10)
                #expect(served.count > 10)
                #expect(served.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(served.subtracting(documented).sorted())")
                #expect(documented.subtracting(served).isEmpty, "documented routes the server lacks: \(documented.subtracting(served).sorted())")
            }
        }
    }
}
