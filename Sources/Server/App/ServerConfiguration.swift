import Acquiring
import BillingCore
import Foundation

/// Everything `serve` needs to know, read once at start-up.
public struct ServerConfiguration: Sendable {
    /// How user bearer tokens from the Movix auth service are verified.
    public enum TokenVerification: Sendable {
        case hmacSHA256(secret: String)
        case rsaSHA256(publicKeyPEM: String)
    }

    public var host: String
    public var port: Int
    /// The address viewers reach us at; payment links are built from it.
    public var publicURL: String
    public var tokenVerification: TokenVerification
    /// The bearer token other Movix services present on internal routes.
    public var internalToken: String
    public var cloudPayments: CloudPaymentsConfiguration
    /// Where the "Watch movies" link on a paid payment page leads.
    public var watchURL: String
    /// The user the development `/demo` page buys for; nil disables the page.
    public var demoUserID: UUID?
    /// The Movix web app's origin, the only one that may frame the payment page; nil: none may.
    public var webOrigin: String?
    /// The `aud` user tokens must carry.
    public var jwtAudience: String
    /// The `iss` user tokens must carry, when set.
    public var jwtIssuer: String?
    /// Connection limits and timeouts.
    public var limits: HTTPLimits
    /// What a viewer who cancels gets back.
    public var refundPolicy: RefundPolicy
    /// When renewals are charged and how long past due lasts.
    public var renewalTerms: RenewalTerms

    public init(host: String, port: Int, publicURL: String, tokenVerification: TokenVerification, internalToken: String, cloudPayments: CloudPaymentsConfiguration, watchURL: String, demoUserID: UUID? = nil, webOrigin: String? = nil, jwtAudience: String = DevelopmentTokens.defaultAudience, jwtIssuer: String? = nil, limits: HTTPLimits = HTTPLimits(), refundPolicy: RefundPolicy = .prorated, renewalTerms: RenewalTerms = .standard) {
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.tokenVerification = tokenVerification
        self.internalToken = internalToken
        self.cloudPayments = cloudPayments
        self.watchURL = watchURL
        self.demoUserID = demoUserID
        self.webOrigin = webOrigin
        self.jwtAudience = jwtAudience
        self.jwtIssuer = jwtIssuer
        self.limits = limits
        self.refundPolicy = refundPolicy
        self.renewalTerms = renewalTerms
    }
}
