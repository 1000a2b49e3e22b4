/// One server reply: a three-digit code and its text lines (several for a `250-...` multi-line reply).
struct SMTPReply: Sendable, Hashable {
    var code: Int
    var lines: [String]

    /// The text of all lines on one line, for errors and logs.
    var text: String { lines.joined(separator: " / ") }

    /// The EHLO keywords after the greeting line, upper-cased, each with its parameters.
    var extensions: [String: [String]] {
        var result: [String: [String]] = [:]
        for line in lines.dropFirst() {
            // Old servers write "AUTH=LOGIN PLAIN"; treat it as "AUTH LOGIN PLAIN".
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { $0.uppercased() }
            if let keyword = words.first { result[keyword] = Array(words.dropFirst()) }
        }
        return result
    }
}
