/// The bytes sent after DATA's 354: the message dot-stuffed (RFC 5321 §4.5.2) and ended by a lone ".".
enum SMTPDataEncoding {
    /// Doubles a "." at the start of any line, so no line of the message can end the transfer early.
    static func payload(_ message: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.utf8.count + 8)
        var atLineStart = true
        for byte in message.utf8 {
            if atLineStart, byte == UInt8(ascii: ".") { bytes.append(byte) }
            bytes.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !bytes.isEmpty, !atLineStart { bytes += Array("\r\n".utf8) }
        return bytes + Array(".\r\n".utf8)
    }
}
