import Foundation

/// Splits a SQL file into statements, because the extended query protocol runs one at a time.
/// Semicolons inside quotes, dollar-quoted bodies and comments do not end a statement.
enum SQLScript {
    static func statements(in script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var index = script.startIndex
        var dollarTag: String?
        var inQuote = false
        var inLineComment = false

        func peek(_ prefix: String) -> Bool { script[index...].hasPrefix(prefix) }

        while index < script.endIndex {
            let character = script[index]
            if inLineComment {
                if character == "\n" { inLineComment = false }
            } else if let tag = dollarTag {
                if peek(tag) {
                    current += tag
                    index = script.index(index, offsetBy: tag.count)
                    dollarTag = nil
                    continue
                }
            } else if inQuote {
                if character == "'" { inQuote = false }
            } else if peek("--") {
                inLineComment = true
            } else if character == "'" {
                inQuote = true
            } else if character == "$", let end = script[script.index(after: index)...].firstIndex(of: "$"),
                      script[script.index(after: index)..<end].allSatisfy({ $0.isLetter || $0 == "_" }) {
                let tag = String(script[index...end])
                current += tag
                index = script.index(after: end)
                dollarTag = tag
                continue
            } else if character == ";" {
                appendTrimmed(current, to: &statements)
                current = ""
                index = script.index(after: index)
                continue
            }
            if !inLineComment { current.append(character) }
            index = script.index(after: index)
        }
        appendTrimmed(current, to: &statements)
        return statements
    }

    private static func appendTrimmed(_ statement: String, to statements: inout [String]) {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { statements.append(trimmed) }
    }
}
