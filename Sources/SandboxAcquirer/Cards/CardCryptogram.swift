import Foundation

/// The sandbox's `CardCryptogramPacket`: `sbx1.` + base64url (unpadded) of `{"Number","ExpDate","Cvv","Name"}`,
/// plain enough that scripts can pay without a browser (the real packet is encrypted by the checkout script).
enum CardCryptogram {
    static let prefix = "sbx1."

    struct Malformed: Error {}

    static func decode(_ packet: String) throws(Malformed) -> CardDetails {
        guard packet.hasPrefix(prefix), let data = Data(base64URLEncoded: String(packet.dropFirst(prefix.count))),
              let payload = try? JSONDecoder().decode(Payload.self, from: data),
              let card = try? CardDetails(
                  number: payload.number, expiry: payload.expDate, cvv: payload.cvv, holderName: payload.name ?? ""
              )
        else { throw Malformed() }
        return card
    }

    private struct Payload: Decodable {
        let number: String
        let expDate: String
        let cvv: String
        let name: String?

        enum CodingKeys: String, CodingKey {
            case number = "Number", expDate = "ExpDate", cvv = "Cvv", name = "Name"
        }
    }
}

extension Data {
    /// Decodes base64url with or without `=` padding.
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    /// base64url without padding, the form used in the sandbox's cryptograms and 3-D Secure messages.
    var base64URLEncodedString: String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
