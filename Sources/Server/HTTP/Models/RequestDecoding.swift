import Foundation
import Hummingbird
import NIOCore

/// Decodes a request's JSON body with the API's conventions (see `jsonBody` and the decoder below).
func decodeBody<Body: Decodable>(_ type: Body.Type, from request: Request, context: some RequestContext) async throws -> Body {
    try decodeBody(type, from: try await jsonBody(of: request, context: context))
}

/// A request's body, which must be declared `application/json` (415 otherwise): a form post or
/// text/plain carrying JSON is how a cross-site page would send it unasked.
func jsonBody(of request: Request, context: some RequestContext) async throws -> ByteBuffer {
    let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
    guard mediaType == "application/json" else {
        throw Problem(.unsupportedMediaType, type: "unsupported-media-type", title: "JSON expected", detail: "Send the body as application/json.")
    }
    return try await request.body.collect(upTo: context.maxUploadSize)
}

/// Decodes a JSON body, turning decoder errors into problems that say which field is wrong: 400
/// for text that is not JSON, 422 for JSON of the wrong shape.
func decodeBody<Body: Decodable>(_ type: Body.Type, from buffer: ByteBuffer) throws -> Body {
    guard buffer.readableBytes > 0 else { throw Problem.badRequest("The request body is empty; send a JSON object.") }
    // No field of ours takes a NUL, and PostgreSQL cannot store one: refused here, not as a 500 later.
    guard !buffer.readableBytesView.contains(0), !containsEscapedNUL(buffer) else {
        throw Problem.invalid("The request contains a NUL character, which no field accepts.")
    }
    do {
        return try APICoding.decoder.decode(Body.self, from: Data(buffer: buffer))
    } catch let error as DecodingError {
        throw problem(for: error, in: buffer)
    }
}

/// Whether a JSON body holds a string with a NUL (written `\u0000`); only bodies whose text has
/// that escape are parsed to look, so an escaped backslash before `u0000` is not mistaken for one.
private func containsEscapedNUL(_ buffer: ByteBuffer) -> Bool {
    guard buffer.readableBytesView.firstRange(of: Array(#"u0000"#.utf8)) != nil,
          let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer), options: [.fragmentsAllowed])
    else { return false }
    func holdsNUL(_ value: Any) -> Bool {
        switch value {
        case let text as String: text.contains("\u{0}")
        case let array as [Any]: array.contains(where: holdsNUL)
        case let object as [String: Any]: object.contains { $0.key.contains("\u{0}") || holdsNUL($0.value) }
        default: false
        }
    }
    return holdsNUL(object)
}

private func problem(for error: DecodingError, in buffer: ByteBuffer) -> Problem {
    func field(_ path: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
        let names = (path + (key.map { [$0] } ?? [])).map { snakeCase($0.stringValue) }
        return names.isEmpty ? "the body" : names.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return .invalid("\(field(context.codingPath, key)) is required.")
    case .typeMismatch(let expected, let context):
        return .invalid("\(field(context.codingPath)) must be \(describe(expected)).")
    case .valueNotFound(let expected, let context):
        return .invalid("\(field(context.codingPath)) must be \(describe(expected)), not null.")
    case .dataCorrupted(let context) where context.codingPath.isEmpty:
        // Foundation says "not valid JSON" of valid JSON whose number fits no integer field.
        guard (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) != nil else {
            return .badRequest("The request body is not valid JSON.")
        }
        return .invalid("A number in the request body does not fit its field (amounts are whole minor units, at most 9223372036854775807).")
    case .dataCorrupted(let context):
        return .invalid("\(field(context.codingPath)) is not valid: \(context.debugDescription)")
    @unknown default:
        return .invalid("The request body does not match the expected shape.")
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is Int64.Type: "an integer"
    case is Bool.Type: "a boolean"
    default: "an object"
    }
}

private func snakeCase(_ name: String) -> String {
    name.reduce(into: "") { result, character in
        if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
    }
}
