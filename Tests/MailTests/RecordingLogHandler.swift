import Logging
import Synchronization

/// Keeps every log message, so a test can read the SMTP conversation the client logged.
struct RecordingLogHandler: LogHandler {
    final class Store: Sendable {
        let messages = Mutex<[String]>([])
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.messages.withLock { $0.append(event.message.description) }
    }
}
