internal import COpenSSL
import KofuJSON

/// A compact JWS (RFC 7515 §7.1) in the profile of center-api.md. `parse` checks syntax only;
/// `verifySignature` checks the signature; the certificate's path is `TrustStore.verify`'s job.
public struct CompactJWS: Sendable {
    /// The decoded protected header bytes.
    public let protectedHeader: [UInt8]
    /// The decoded payload bytes; the caller decodes its fields.
    public let payload: [UInt8]
    /// The payload as parsed here (always an object), so that the caller need not parse it again.
    public let payloadObject: JSONObject
    /// The header's `alg`, unchecked by `parse` (a non-RS256 value is `SIGNATURE_INVALID`, later
    /// in the spec's order of errors than `MALFORMED_REQUEST`).
    public let algorithm: String
    /// The one certificate of `x5c`.
    public let certificate: CardCertificate
    /// The exact transmitted "header.payload" bytes: the JWS Signing Input.
    let signingInput: [UInt8]
    let signature: [UInt8]

    static let requiredType = Array("kofu-request".utf8)
    private static let alg = Array("alg".utf8), typ = Array("typ".utf8), x5c = Array("x5c".utf8)

    public static func parse(_ body: [UInt8]) throws(CardAuthError) -> CompactJWS {
        let dot = UInt8(ascii: ".")
        var dots: [Int] = []
        for (i, b) in body.enumerated() where b == dot {
            dots.append(i)
            if dots.count > 2 { break }
        }
        guard dots.count == 2 else { throw .malformed("a compact JWS has exactly three segments separated by '.'") }
        let segments = [body[..<dots[0]], body[(dots[0] + 1)..<dots[1]], body[(dots[1] + 1)...]]
        let names = ["protected header", "payload", "signature"]
        var decoded: [[UInt8]] = []
        for (segment, name) in zip(segments, names) {
            guard !segment.isEmpty else { throw .malformed("the \(name) segment is empty") }
            guard let bytes = Base64.decodeURL(segment) else {
                throw .malformed("the \(name) segment is not base64url without padding")
            }
            decoded.append(bytes)
        }

        let header = try object(decoded[0], name: "protected header")
        var algorithm: String?, type: String?, certificates: [JSONValue]?
        for (key, value) in header.members {
            // Names compare by UTF-8 bytes, never by Swift's canonical-equivalence `==`.
            switch (Array(key.utf8), value) {
            case (alg, .string(let s)): algorithm = s
            case (typ, .string(let s)): type = s
            case (x5c, .array(let a)): certificates = a
            case (alg, _), (typ, _), (x5c, _): throw .malformed("header member \(key) has the wrong type")
            default: throw .malformed("unknown header member")
            }
        }
        guard let algorithm else { throw .malformed("header member alg is missing") }
        guard let type else { throw .malformed("header member typ is missing") }
        guard let certificates else { throw .malformed("header member x5c is missing") }
        guard Array(type.utf8) == requiredType else { throw .malformed("header typ is not \"kofu-request\"") }
        guard certificates.count == 1 else { throw .malformed("x5c must hold exactly one certificate") }
        guard case .string(let encoded) = certificates[0] else { throw .malformed("x5c[0] is not a string") }
        guard let der = Base64.decodeStandard(encoded.utf8) else { throw .malformed("x5c[0] is not standard base64") }
        let certificate = try CardCertificate(der: der)

        let payload = try object(decoded[1], name: "payload")
        return CompactJWS(protectedHeader: decoded[0], payload: decoded[1], payloadObject: payload,
                          algorithm: algorithm, certificate: certificate,
                          signingInput: Array(body[..<dots[1]]), signature: decoded[2])
    }

    private static func object(_ bytes: [UInt8], name: String) throws(CardAuthError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            // The code and offset only: the text could quote the sender's data.
            throw .malformed("the \(name) is not I-JSON (\(error.code.rawValue) at byte \(error.offset))")
        }
        guard case .object(let object) = value else { throw .malformed("the \(name) is not a JSON object") }
        return object
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over the exact transmitted "header.payload" bytes,
    /// with the public key of the `x5c` certificate. Any other `alg` (`none` included), a key that
    /// is not RSA, or a signature that does not verify is `.signatureInvalid`.
    public func verifySignature() throws(CardAuthError) {
        guard Array(algorithm.utf8) == Array("RS256".utf8) else { throw .signature("alg is not RS256") }
        guard let key = certificate.x509.publicKey else { throw .signature("the certificate's public key cannot be read") }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else { throw .signature("the certificate's key is not RSA") }
        let context = EVP_MD_CTX_new()!
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, EVP_sha256(), nil, key) == 1,
              EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) == 1
        else { throw .signature("cannot set up RS256 verification") }
        let verified = signature.withUnsafeBufferPointer { sig in
            signingInput.withUnsafeBufferPointer { input in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, input.baseAddress, input.count)
            }
        }
        guard verified == 1 else { throw .signature("the signature does not verify with the x5c key") }
    }
}
