import Foundation
import Hummingbird

/// An HTML page response.
struct HTML: ResponseGenerator {
    let html: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: html)))
    }
}

/// JSON for a page's script that cannot close the `<script>` element it sits in.
func scriptSafeJSON(_ value: some Encodable) throws -> String {
    String(decoding: try JSONEncoder().encode(value), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
}
