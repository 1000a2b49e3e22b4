import Foundation

/// One request to or notification from an acquirer, as written to `acquiring_log`.
public struct AcquiringLogEntry: Sendable {
    /// Which way the message went.
    public enum Direction: String, Sendable {
        case request, notification
    }

    public var acquirer: String
    public var direction: Direction
    public var operation: String
    public var transactionID: String?
    public var invoiceID: String?
    public var httpStatus: Int?
    public var code: String?
    public var message: String?
    /// Request and response, secrets removed.
    public var payload: String
    public var durationMilliseconds: Int?

    public init(acquirer: String, direction: Direction, operation: String, transactionID: String? = nil, invoiceID: String? = nil, httpStatus: Int? = nil, code: String? = nil, message: String? = nil, payload: String, durationMilliseconds: Int? = nil) {
        self.acquirer = acquirer
        self.direction = direction
        self.operation = operation
        self.transactionID = transactionID
        self.invoiceID = invoiceID
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.payload = payload
        self.durationMilliseconds = durationMilliseconds
    }
}

/// Where acquirer interactions are recorded; Storage writes them to PostgreSQL.
public protocol AcquiringLog: Sendable {
    func record(_ entry: AcquiringLogEntry) async
}
