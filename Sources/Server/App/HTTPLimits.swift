/// How long the server waits for clients and for itself, and how many connections it holds, so
/// that slow or stuck clients cannot tie it up and no request runs unbounded.
public struct HTTPLimits: Sendable {
    /// A connection with no request under way (keep-alive, or headers still coming) is closed after this.
    public var idleTimeout: Duration
    /// The whole request body must arrive within this, counted from when its reading starts (408 otherwise).
    public var readTimeout: Duration
    /// A request with a body (the ones that may call the acquirer) still running after this is
    /// cancelled and answered 503. Longer than an acquirer call (30 s) plus a statement (5 s): it
    /// is the backstop for what has no timeout of its own. Requests without a body only read the
    /// database, which the lease and statement timeouts bound.
    public var requestTimeout: Duration
    /// Connections beyond this wait in the listen backlog until one closes.
    public var maxConnections: Int

    public init(idleTimeout: Duration = .seconds(60), readTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(45), maxConnections: Int = 1_000) {
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }
}
