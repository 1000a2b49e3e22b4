/// Remembers each `X-Request-ID`'s response for an hour, so a client retrying after a lost answer gets the same
/// result and the operation (and its notifications) happens once.
actor IdempotencyCache {
    private var entries: [String: Entry] = [:]
    private let lifetime: Duration
    private let clock = ContinuousClock()

    private struct Entry {
        let response: Task<APIResponse, Never>
        let expiresAt: ContinuousClock.Instant
    }

    init(lifetime: Duration = .seconds(3600)) {
        self.lifetime = lifetime
    }

    /// Runs `operation` for a new id; for a known one, waits for and replays the first response, even when the first
    /// call is still in progress. The operation runs in its own task so a client that disconnects cannot cut it short.
    func response(
        for requestID: String,
        orPerform operation: @escaping @Sendable () async -> APIResponse
    ) async -> APIResponse {
        let now = clock.now
        entries = entries.filter { $0.value.expiresAt > now }
        if let entry = entries[requestID] {
            return await entry.response.value
        }
        let response = Task { await operation() }
        entries[requestID] = Entry(response: response, expiresAt: now.advanced(by: lifetime))
        return await response.value
    }
}
