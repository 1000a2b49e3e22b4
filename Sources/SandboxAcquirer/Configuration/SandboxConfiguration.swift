/// How to run the sandbox acquirer: where it listens, the terminal credentials, and where it sends notifications.
public struct SandboxConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The terminal's Public ID: the Basic-auth user name, and the `publicId` the widget must be given.
    public var publicID: String
    /// The terminal's API secret: the Basic-auth password and the HMAC key that signs notifications.
    public var apiSecret: String
    /// Notifications go to `<base>/check`, `/pay`, `/fail`, `/refund`, `/cancel` and `/confirm`;
    /// an empty string turns them off and lets every Check pass.
    public var notificationBaseURL: String
    /// Fault switches in force at start-up; `PUT /sandbox/faults` replaces them while running.
    public var faults: SandboxFaults
    /// Delays between delivery attempts of a notification; one attempt more than there are delays.
    public var retrySchedule: [Duration]

    public init(
        host: String = "127.0.0.1",
        port: Int = 8090,
        publicID: String = "pk_sandbox_movix",
        apiSecret: String,
        notificationBaseURL: String = "http://127.0.0.1:8080/webhooks/cloudpayments",
        faults: SandboxFaults = SandboxFaults(),
        retrySchedule: [Duration] = [.seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60)]
    ) {
        self.host = host
        self.port = port
        self.publicID = publicID
        self.apiSecret = apiSecret
        self.notificationBaseURL = notificationBaseURL
        self.faults = faults
        self.retrySchedule = retrySchedule
    }
}
