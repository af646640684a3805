/// A refusal of a Center API request, with the spec's stable code. The HTTP layer maps the code
/// to a status and a problem document in one table (KofuServer); this module never speaks HTTP.
public struct IssuanceError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case malformedRequest = "MALFORMED_REQUEST"
        case wrongMunicipality = "WRONG_MUNICIPALITY"
        case signatureInvalid = "SIGNATURE_INVALID"
        case cardCertUntrusted = "CARD_CERT_UNTRUSTED"
        case cardCertExpired = "CARD_CERT_EXPIRED"
        case cardCertRevoked = "CARD_CERT_REVOKED"
        case revocationUnavailable = "REVOCATION_UNAVAILABLE"
        case cardNotRegistered = "CARD_NOT_REGISTERED"
        case requestExpired = "REQUEST_EXPIRED"
        case requesterNotCurrent = "REQUESTER_NOT_CURRENT"
        case notSameHousehold = "NOT_SAME_HOUSEHOLD"
        case selfOnly = "SELF_ONLY"
        case issuanceRestricted = "ISSUANCE_RESTRICTED"
        case requesterUnderAge = "REQUESTER_UNDER_AGE"
        case requestReplayed = "REQUEST_REPLAYED"
        case outcomeConflict = "OUTCOME_CONFLICT"
        case issuanceNotFound = "ISSUANCE_NOT_FOUND"
        case optionNotAllowed = "OPTION_NOT_ALLOWED"
        case sealNotRegistered = "SEAL_NOT_REGISTERED"
        case gaijiUnrenderable = "GAIJI_UNRENDERABLE"
        case outsideServiceHours = "OUTSIDE_SERVICE_HOURS"
        case serviceSuspended = "SERVICE_SUSPENDED"
        /// A bug or a store failure: answered 500, never a certificate.
        case internalError = "INTERNAL_ERROR"
    }

    public let code: Code
    /// The request's requestId once its payload was decoded.
    public let requestId: String?
    /// Operator-facing detail for the log: field names, code points, opaque references. Never a
    /// name, address or 住民票コード, and never sent to the caller.
    public let detail: String

    public init(_ code: Code, requestId: String? = nil, _ detail: String = "") {
        self.code = code
        self.requestId = requestId
        self.detail = detail
    }

    func with(requestId: String) -> IssuanceError { IssuanceError(code, requestId: requestId, detail) }

    public var description: String { detail.isEmpty ? code.rawValue : "\(code.rawValue): \(detail)" }
}
