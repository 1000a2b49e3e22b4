import Logging
import ServiceLifecycle

/// Delivers asynchronous notifications after the API call that caused them has answered, retrying on the configured
/// schedule and applying the notification faults. Runs as a service of the application, so shutdown stops it.
final class NotificationDispatcher: Service, Sendable {
    private let sender: NotificationSender
    private let faults: FaultSwitchboard
    private let retrySchedule: [Duration]
    private let logger: Logger
    private let queue: AsyncStream<MerchantNotification>
    private let queueInput: AsyncStream<MerchantNotification>.Continuation

    /// CloudPayments gives the merchant this long to answer each attempt.
    private static let attemptTimeout: Duration = .seconds(30)

    init(sender: NotificationSender, faults: FaultSwitchboard, retrySchedule: [Duration], logger: Logger) {
        self.sender = sender
        self.faults = faults
        self.retrySchedule = retrySchedule
        self.logger = logger
        (queue, queueInput) = AsyncStream.makeStream()
    }

    func enqueue(_ notification: MerchantNotification) {
        guard sender.isEnabled else { return }
        queueInput.yield(notification)
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            for await notification in queue.cancelOnGracefulShutdown() {
                let faults = await faults.current
                for _ in 0...faults.duplicateNotifications {
                    group.addTask { await self.deliver(notification, faults: faults) }
                }
            }
            // Pending retries may sleep for minutes; they must not hold up shutdown.
            group.cancelAll()
        }
    }

    private func deliver(_ notification: MerchantNotification, faults: SandboxFaults) async {
        let metadata: Logger.Metadata = [
            "notification": "\(notification.kind.rawValue)",
            "transaction": "\(notification.transactionID)",
        ]
        guard await pause(.milliseconds(faults.notificationDelayMs)) else { return }
        for attempt in 0...retrySchedule.count {
            if attempt > 0 {
                guard await pause(retrySchedule[attempt - 1]) else { return }
            }
            if attempt < faults.dropNotifications {
                logger.debug("Notification attempt dropped by fault injection", metadata: metadata)
                continue
            }
            do {
                let code = try await sender.send(notification, timeout: Self.attemptTimeout)
                if code == 0 {
                    logger.debug("Notification delivered", metadata: metadata)
                    return
                }
                logger.warning("Merchant answered a notification with code \(code)", metadata: metadata)
            } catch {
                if Task.isCancelled { return }
                logger.warning("Notification attempt failed: \(error)", metadata: metadata)
            }
        }
        logger.error("Notification not delivered, giving up after \(retrySchedule.count + 1) attempts", metadata: metadata)
    }

    /// Sleeps, answering false when the dispatcher is shutting down instead.
    private func pause(_ duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return true
        } catch {
            return false
        }
    }
}
