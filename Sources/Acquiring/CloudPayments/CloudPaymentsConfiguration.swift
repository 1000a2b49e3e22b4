/// How to reach a CloudPayments terminal (or the sandbox that speaks its protocol).
public struct CloudPaymentsConfiguration: Sendable {
    public static let productionAPIURL = "https://api.cloudpayments.ru"
    public static let productionWidgetURL = "https://widget.cloudpayments.ru/bundles/cloudpayments.js"

    public var apiURL: String
    public var publicID: String
    /// Basic-auth password for API calls and the HMAC key of notifications.
    public var apiSecret: String
    public var widgetScriptURL: String
    /// How long an API call may take before its outcome counts as unknown.
    public var requestTimeout: Duration

    public init(apiURL: String = productionAPIURL, publicID: String, apiSecret: String, widgetScriptURL: String = productionWidgetURL, requestTimeout: Duration = .seconds(30)) {
        self.apiURL = apiURL
        self.publicID = publicID
        self.apiSecret = apiSecret
        self.widgetScriptURL = widgetScriptURL
        self.requestTimeout = requestTimeout
    }
}
