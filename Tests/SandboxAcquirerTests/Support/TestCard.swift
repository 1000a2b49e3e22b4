import Foundation

/// Builds sandbox cryptograms the way docs/sandbox.md tells a script to.
enum TestCard {
    static func cryptogram(_ number: String, expiry: String = "12/40", cvv: String = "123", name: String = "CARD HOLDER") -> String {
        let json = try! JSONSerialization.data(withJSONObject: ["Number": number, "ExpDate": expiry, "Cvv": cvv, "Name": name])
        return "sbx1." + json.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
