/// A user name and password for SMTP AUTH; the password is kept out of every printed form.
public struct SMTPCredentials: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The login.
    public var username: String
    /// The secret; never logged or described.
    public var password: String

    /// Credentials for AUTH PLAIN or LOGIN.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The user name with the password masked.
    public var description: String { "\(username):***" }

    /// A mirror with the password masked: dump() and debuggers walk the mirror, not `description`.
    public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": "***"]) }
}
