/// Field names whose values must never reach a log: card data, tokens, 3-DS secrets.
let secretFieldNames: Set<String> = ["token", "cardcryptogrampacket", "pares", "pareq", "cardnumber", "cvv", "password"]

/// Replaces secret values in a flat list of fields with a marker.
func redacted(_ fields: [(String, String)]) -> [(String, String)] {
    fields.map { name, value in
        secretFieldNames.contains(name.lowercased()) ? (name, "[redacted]") : (name, value)
    }
}
