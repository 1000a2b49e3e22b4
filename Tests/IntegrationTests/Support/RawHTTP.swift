import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 written byte by byte on a plain socket, for what an HTTP client will not send:
/// broken chunked framing, bodies that stall.
enum RawHTTP {
    /// Sends `parts` to the loopback `port`, pausing `pause` between them, and returns what the
    /// server answered before closing or before `readTimeout` passed without a byte.
    static func exchange(port: Int, _ parts: [String], pause: Duration = .zero, readTimeout: Int = 10) async throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw LiveStackError(message: "could not connect to port \(port)") }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        for (index, part) in parts.enumerated() {
            if index > 0 { try await Task.sleep(for: pause) }
            let bytes = Array(part.utf8)
            // The server may answer and close before everything is sent; what it said is the result.
            guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { break }
        }
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
