import Foundation

/// The languages the service speaks to viewers: pages and email.
public enum Language: String, Sendable, Hashable, CaseIterable, Codable {
    case ru, en

    /// The language an Accept-Language header asks for first, if it is one of ours.
    public init?(acceptLanguage header: String) {
        let first = header.split(separator: ",").first.map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard let language = Language(rawValue: String(first.prefix(2))) else { return nil }
        self = language
    }
}
