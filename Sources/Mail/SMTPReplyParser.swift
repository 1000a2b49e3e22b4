import NIOCore

/// Splits the server's byte stream into replies, joining `250-...` continuation lines.
struct SMTPReplyParser {
    // Far above RFC 5321's 512-octet reply line; the cap stops a broken server from filling memory.
    private static let maximumLineLength = 4096
    private static let maximumLines = 256

    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var code: Int?

    /// Whether bytes or lines of an unfinished reply are held.
    var isEmpty: Bool { pending.isEmpty && lines.isEmpty }

    /// Consumes the buffer and returns the replies it completed.
    mutating func feed(_ buffer: inout ByteBuffer) throws(SMTPChannelFailure) -> [SMTPReply] {
        pending += buffer.readableBytesView
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        var replies: [SMTPReply] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if let reply = try take(line) { replies.append(reply) }
            pending.removeSubrange(...newline)
        }
        guard pending.count <= Self.maximumLineLength else { throw .malformedReply("reply line too long") }
        return replies
    }

    private mutating func take(_ line: ArraySlice<UInt8>) throws(SMTPChannelFailure) -> SMTPReply? {
        let bytes = Array(line)
        guard bytes.count >= 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(bytes[0]),
              bytes[1...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
        else { throw .malformedReply("not an SMTP reply line: \(String(decoding: bytes.prefix(80), as: UTF8.self))") }
        let lineCode = bytes[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard code == nil || code == lineCode else { throw .malformedReply("reply code changed inside a multi-line reply") }
        guard lines.count < Self.maximumLines else { throw .malformedReply("reply has too many lines") }
        lines.append(String(decoding: bytes.dropFirst(4), as: UTF8.self))
        if bytes.count > 3, bytes[3] == UInt8(ascii: "-") {
            code = lineCode
            return nil
        }
        defer {
            lines = []
            code = nil
        }
        return SMTPReply(code: lineCode, lines: lines)
    }
}
