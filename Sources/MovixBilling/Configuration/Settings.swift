import Configuration
import Foundation

/// Typed access to environment settings that names the variable whenever one is missing or
/// malformed, so a bad deployment stops at start-up with a message saying what to fix.
struct Settings {
    let reader: ConfigReader

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        reader = ConfigReader(provider: EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .dynamic { key, _ in key.hasSuffix("SECRET") || key.hasSuffix("TOKEN") || key.hasSuffix("KEY") || key == "DATABASE_URL" }
        ))
    }

    /// A setting's value, the default when unset, or an error naming it.
    func string(_ name: String, default fallback: String? = nil) throws -> String {
        if let value = optional(name) { return value }
        if let fallback { return fallback }
        throw SettingError(name: name, problem: "is required but not set")
    }

    /// A setting that may be left unset; an empty value counts as unset.
    func optional(_ name: String) -> String? {
        reader.string(forKey: Self.key(name)).flatMap { $0.isEmpty ? nil : $0 }
    }

    func port(_ name: String, default fallback: Int) throws -> Int {
        guard let text = optional(name) else { return fallback }
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw SettingError(name: name, problem: "must be a TCP port number (1-65535), got \"\(text)\"")
        }
        return port
    }

    func positiveInteger(_ name: String, default fallback: Int) throws -> Int {
        guard let text = optional(name) else { return fallback }
        guard let value = Int(text), value > 0 else {
            throw SettingError(name: name, problem: "must be a positive integer, got \"\(text)\"")
        }
        return value
    }

    /// A duration: seconds (`30`, `0.5`) or a number with `ms`, `s`, `m` or `h` (`500ms`, `2m`).
    func duration(_ name: String, default fallback: Duration, atMostDays days: Int = 1) throws -> Duration {
        guard let text = optional(name) else { return fallback }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("", 1)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let number = Double(text.dropLast(unit.suffix.count)), number > 0, number <= Double(days) * 86_400 / unit.seconds {
                return .milliseconds(Int64((number * unit.seconds * 1000).rounded()))
            }
        }
        let limit = days == 1 ? "a day" : "\(days) days"
        throw SettingError(name: name, problem: "must be a positive duration such as 30, 500ms, 2m, 1h or 3d (at most \(limit)), got \"\(text)\"")
    }

    func url(_ name: String, default fallback: String? = nil) throws -> String {
        let text = try string(name, default: fallback)
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw SettingError(name: name, problem: "must be an http(s) URL, got \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `MOVIX_HTTP_PORT` is the key `movix.http.port`, which the environment provider maps back.
    private static func key(_ name: String) -> ConfigKey {
        ConfigKey(name.lowercased().split(separator: "_").map(String.init))
    }
}

/// A setting that stops start-up.
struct SettingError: Error, CustomStringConvertible {
    var name: String
    var problem: String
    var description: String { "Configuration error: \(name) \(problem)." }
}
