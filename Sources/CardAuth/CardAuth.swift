// Placeholder with the agreed public API, so that Issuance compiles before the real module lands.
import Foundation

public struct CardAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case malformedRequest = "MALFORMED_REQUEST"
        case signatureInvalid = "SIGNATURE_INVALID"
        case cardCertUntrusted = "CARD_CERT_UNTRUSTED"
        case cardCertExpired = "CARD_CERT_EXPIRED"
        case cardCertRevoked = "CARD_CERT_REVOKED"
        case revocationUnavailable = "REVOCATION_UNAVAILABLE"
    }
    public let code: Code
    public let message: String
    public var description: String { "\(code.rawValue): \(message)" }
}

public final class CardCertificate: @unchecked Sendable {
    public init(der: [UInt8]) throws(CardAuthError) { self.der = der; sha256Hex = "" }
    public let der: [UInt8]
    public let sha256Hex: String
}

public struct CompactJWS: Sendable {
    public static func parse(_ body: [UInt8]) throws(CardAuthError) -> CompactJWS {
        throw CardAuthError(code: .malformedRequest, message: "placeholder")
    }
    public let protectedHeader: [UInt8]
    public let payload: [UInt8]
    public let algorithm: String
    public let certificate: CardCertificate
    public func verifySignature() throws(CardAuthError) {}
}

public final class TrustStore: @unchecked Sendable {
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public let file: String
        public let message: String
        public var description: String { "\(file): \(message)" }
    }
    public init(anchorFiles: [String], intermediateFiles: [String], crlDirectory: String, policyOID: String) throws(ConfigurationError) {}
    public func verify(_ certificate: CardCertificate, at time: Date) throws(CardAuthError) {}
    public func refreshCRLs() {}
    public func hasValidCRL(at time: Date) -> Bool { false }
    public func crlAges(at time: Date) -> [(issuer: String, seconds: Double)] { [] }
}
