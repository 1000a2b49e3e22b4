import Foundation

/// The MIME pieces the renderer needs: 7-bit-safe bodies, encoded words and header folding.
enum MIMEEncoding {
    /// Base64 in 76-character lines (RFC 2045 §6.8), each ending with CRLF.
    static func base64Lines(_ bytes: some Sequence<UInt8>) -> String {
        let encoded = Data(bytes).base64EncodedString()
        var lines = ""
        var start = encoded.startIndex
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines += encoded[start..<end] + "\r\n"
            start = end
        }
        return lines
    }

    /// Text with every line break as CRLF: RFC 2046 wants text in canonical form before base64.
    static func canonicalLineBreaks(_ text: String) -> String {
        // Swift treats "\r\n" as one Character, so this sees each break once.
        var result = ""
        for character in text {
            result += character == "\r\n" || character == "\n" || character == "\r" ? "\r\n" : String(character)
        }
        return result
    }

    /// Whether a header value can go on the wire as it is (printable ASCII and spaces).
    static func isPlainHeaderText(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x20...0x7E).contains($0) } && !text.contains("=?")
    }

    /// RFC 2047 "B" encoded words of at most 75 characters, never splitting a UTF-8 sequence between two words.
    static func encodedWords(_ text: String) -> [String] {
        // 39 bytes make 52 base64 characters, a 64-character word: it fits after "Subject: " within 78 columns.
        let maximumBytes = 39
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > maximumBytes, !chunk.isEmpty {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        return words
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    /// An unstructured header value (a subject): as it is when plain ASCII, else encoded words; folded to 78 columns.
    static func unstructuredHeader(name: String, value: String) -> String {
        let plainWords = value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        // A word too long to fold would break the 998-octet line limit; encoded words can always be split.
        let staysPlain = isPlainHeaderText(value) && plainWords.allSatisfy { $0.utf8.count <= 76 }
        return fold(prefix: "\(name): ", words: staysPlain ? plainWords : encodedWords(value))
    }

    /// Joins words with spaces after the prefix, breaking the line before a word that would pass 78 columns.
    static func fold(prefix: String, words: [String]) -> String {
        var result = prefix
        var column = prefix.utf8.count
        for (index, word) in words.enumerated() {
            if index > 0, !word.isEmpty, column + 1 + word.utf8.count > 78 {
                // CRLF then a space: unfolding turns it back into the one space it replaces.
                result += "\r\n "
                column = 1
            } else if index > 0 {
                result += " "
                column += 1
            }
            result += word
            column += word.utf8.count
        }
        return result + "\r\n"
    }
}
