internal import COpenSSL
import Foundation

/// The path validation core: OpenSSL's `X509_verify_cert` with the settings below, every error
/// collected rather than only the first. `TrustStore` runs it with the card profile; the corpus
/// tests (PKITS, x509-limbo) run it with their own anchors, CRLs and policy settings.
package struct PathValidationOptions: Sendable {
    package enum Revocation: Sendable {
        /// No CRL checks.
        case none
        /// The end entity needs a CRL from its issuer; every other certificate of the path is
        /// checked against its issuer's CRL when one was given, and passes when none was.
        case endEntityRequired
        /// Every certificate of the path needs a CRL (OpenSSL's `-crl_check_all`).
        case all
    }

    package enum Purpose: Sendable { case serverAuth, clientAuth }

    /// nil: no validity-period checks at all (`X509_V_FLAG_NO_CHECK_TIME`). Truncated to whole
    /// seconds, the resolution of X.509 times.
    package var time: Date?
    /// Empty: no policy processing. Otherwise RFC 5280's user-initial-policy-set.
    package var initialPolicies: [String] = []
    package var explicitPolicy = false
    package var inhibitPolicyMapping = false
    package var inhibitAnyPolicy = false
    package var revocation: Revocation = .endEntityRequired
    /// Indirect CRLs, CRLs signed by another key of the issuer, and delta CRLs.
    package var extendedCRLSupport = false
    /// RFC 5280 §4.1.2.5: the validity period includes notAfter. OpenSSL alone treats the notAfter
    /// second as expired.
    package var notAfterInclusive = true
    /// A configured anchor is trusted as it is, self-signed or not (RFC 5280's trust anchor).
    package var partialChain = true
    package var x509Strict = false
    /// OpenSSL security level for every key and signature of the path: 2 is ≥ 112 bits (RSA ≥ 2048,
    /// no SHA-1); -1 leaves it unchecked, OpenSSL's default.
    package var authLevel: Int32 = 2
    /// Maximum number of intermediates (OpenSSL's verify depth).
    package var maxDepth: Int32?
    package var purpose: Purpose?

    package init(time: Date?) { self.time = time }
}

/// One error OpenSSL reported, with the depth of the certificate (0: the end entity).
package struct PathValidationError: Sendable, Equatable, CustomStringConvertible {
    package let code: Int32
    package let depth: Int32
    package var text: String { String(cString: X509_verify_cert_error_string(Int(code))) }
    package var description: String { "\(code) at depth \(depth): \(text)" }
}

package struct PathValidationOutcome: Sendable {
    /// Every error met, in OpenSSL's order (which is not the spec's order of error codes).
    package let errors: [PathValidationError]
    /// What `X509_verify_cert` returned. With every error collected it is 1 unless OpenSSL
    /// stopped on something it does not let a callback override (an internal error).
    package let returnValue: Int32
    package var isValid: Bool { returnValue == 1 && errors.isEmpty }
}

package struct PathValidatorInputError: Error, Sendable, CustomStringConvertible {
    package let description: String
}

package enum PathValidator {
    /// For the corpora: DER or PEM certificates and CRLs, each item one object.
    package static func validate(
        leaf: [UInt8], anchors: [[UInt8]], untrusted: [[UInt8]], crls: [[UInt8]], options: PathValidationOptions
    ) throws(PathValidatorInputError) -> PathValidationOutcome {
        func certificate(_ bytes: [UInt8], _ role: String) throws(PathValidatorInputError) -> X509Ref {
            guard let list = X509Ref.parseFile(bytes), list.count == 1 else {
                throw PathValidatorInputError(description: "\(role) is not one certificate")
            }
            return list[0]
        }
        let leafCert = try certificate(leaf, "the end entity")
        var anchorCerts: [X509Ref] = []
        for a in anchors { anchorCerts.append(try certificate(a, "an anchor")) }
        var untrustedCerts: [X509Ref] = []
        for u in untrusted { untrustedCerts.append(try certificate(u, "an untrusted certificate")) }
        var crlObjects: [CRLRef] = []
        for c in crls {
            guard let crl = CRLRef(file: c) else { throw PathValidatorInputError(description: "a CRL does not parse") }
            crlObjects.append(crl)
        }
        let store = AnchorStore(anchorCerts)
        return run(leaf: leafCert, store: store, untrusted: untrustedCerts, crls: crlObjects, options: options)
    }

    static func run(
        leaf: X509Ref, store: AnchorStore, untrusted: [X509Ref], crls: [CRLRef], options: PathValidationOptions
    ) -> PathValidationOutcome {
        let context = X509_STORE_CTX_new()!
        let untrustedStack = kofu_sk_X509_new_null()!
        let crlStack = kofu_sk_X509_CRL_new_null()!
        // The stacks borrow the objects; the arrays keep them alive until the end of this call.
        for u in untrusted { _ = kofu_sk_X509_push(untrustedStack, u.pointer) }
        for c in crls { _ = kofu_sk_X509_CRL_push(crlStack, c.pointer) }
        let checkTime = options.time.map { time_t(floor($0.timeIntervalSince1970)) }
        let collector = ErrorCollector(checkTime: checkTime, options: options)
        let result: Int32 = withExtendedLifetime((leaf, untrusted, crls, store, collector)) {
            defer {
                X509_STORE_CTX_free(context)
                kofu_sk_X509_free(untrustedStack)
                kofu_sk_X509_CRL_free(crlStack)
            }
            guard X509_STORE_CTX_init(context, store.pointer, leaf.pointer, untrustedStack) == 1 else { return -1 }
            X509_STORE_CTX_set0_crls(context, crlStack)
            let param = X509_STORE_CTX_get0_param(context)!
            var flags = UInt(0)
            switch options.revocation {
            case .none: break
            case .endEntityRequired, .all: flags |= UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)
            }
            if options.extendedCRLSupport { flags |= UInt(X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS) }
            if options.partialChain { flags |= UInt(X509_V_FLAG_PARTIAL_CHAIN) }
            if options.x509Strict { flags |= UInt(X509_V_FLAG_X509_STRICT) }
            if let checkTime {
                X509_VERIFY_PARAM_set_time(param, checkTime)  // also sets X509_V_FLAG_USE_CHECK_TIME
            } else {
                flags |= UInt(X509_V_FLAG_NO_CHECK_TIME)
            }
            if !options.initialPolicies.isEmpty {
                let policies = kofu_sk_ASN1_OBJECT_new_null()!
                defer { kofu_sk_ASN1_OBJECT_pop_free(policies) }
                for oid in options.initialPolicies {
                    guard let object = OBJ_txt2obj(oid, 1) else { return -1 }
                    _ = kofu_sk_ASN1_OBJECT_push(policies, object)
                }
                X509_VERIFY_PARAM_set1_policies(param, policies)  // copies; sets X509_V_FLAG_POLICY_CHECK
                flags |= UInt(X509_V_FLAG_POLICY_CHECK)
                if options.explicitPolicy { flags |= UInt(X509_V_FLAG_EXPLICIT_POLICY) }
                if options.inhibitPolicyMapping { flags |= UInt(X509_V_FLAG_INHIBIT_MAP) }
                if options.inhibitAnyPolicy { flags |= UInt(X509_V_FLAG_INHIBIT_ANY) }
            }
            X509_VERIFY_PARAM_set_flags(param, flags)
            if options.authLevel >= 0 { X509_VERIFY_PARAM_set_auth_level(param, options.authLevel) }
            if let maxDepth = options.maxDepth { X509_VERIFY_PARAM_set_depth(param, maxDepth) }
            switch options.purpose {
            case .serverAuth?: _ = X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER)
            case .clientAuth?: _ = X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT)
            case nil: break
            }
            _ = kofu_X509_STORE_CTX_set_app_data(context, Unmanaged.passUnretained(collector).toOpaque())
            X509_STORE_CTX_set_verify_cb(context, collectingCallback)
            return X509_verify_cert(context)
        }
        ERR_clear_error()
        return PathValidationOutcome(errors: collector.errors, returnValue: result)
    }
}

/// The anchors as an `X509_STORE`, built once; OpenSSL locks the store for lookups, so one store
/// serves concurrent verifications (each with its own `X509_STORE_CTX`).
final class AnchorStore: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ anchors: [X509Ref]) {
        pointer = X509_STORE_new()!
        for a in anchors { _ = X509_STORE_add_cert(pointer, a.pointer) }  // takes its own reference
        ERR_clear_error()  // a duplicate anchor is reported as an error and is harmless
    }

    deinit { X509_STORE_free(pointer) }
}

/// Per-call state of the verify callback, reached through the context's app data.
private final class ErrorCollector {
    var errors: [PathValidationError] = []
    let checkTime: time_t?
    let notAfterInclusive: Bool
    let missingCRLAllowedAboveLeaf: Bool

    init(checkTime: time_t?, options: PathValidationOptions) {
        self.checkTime = checkTime
        self.notAfterInclusive = options.notAfterInclusive
        self.missingCRLAllowedAboveLeaf = options.revocation == .endEntityRequired
    }
}

/// Records each error and lets OpenSSL go on, so that the outcome lists everything that is wrong
/// with the path (the spec's order of codes then picks one). Two errors are not errors here:
/// a missing CRL above the end entity under `.endEntityRequired`, and a validation time equal to
/// notAfter (RFC 5280 makes the period inclusive; OpenSSL counts that second as expired).
private let collectingCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { ok, context in
    guard ok == 0 else { return ok }
    guard let context, let raw = kofu_X509_STORE_CTX_get_app_data(context) else { return 0 }
    let collector = Unmanaged<ErrorCollector>.fromOpaque(raw).takeUnretainedValue()
    let code = X509_STORE_CTX_get_error(context)
    let depth = X509_STORE_CTX_get_error_depth(context)
    if code == X509_V_ERR_UNABLE_TO_GET_CRL && depth > 0 && collector.missingCRLAllowedAboveLeaf { return 1 }
    if code == X509_V_ERR_CERT_HAS_EXPIRED, collector.notAfterInclusive, let checkTime = collector.checkTime,
       let cert = X509_STORE_CTX_get_current_cert(context) {
        var oneSecondBefore = checkTime - 1
        // Expired means notAfter ≤ time; notAfter > time - 1 as well means notAfter == time.
        if X509_cmp_time(X509_get0_notAfter(cert), &oneSecondBefore) > 0 { return 1 }
    }
    collector.errors.append(PathValidationError(code: code, depth: depth))
    return 1
}

extension PathValidationOutcome {
    /// The card profile's reading of the outcome, in this order: any error that makes the path
    /// untrusted → `.cardCertUntrusted`; else a validity-period error → `.cardCertExpired`; else a
    /// revoked certificate → `.cardCertRevoked`; else a missing or unusable CRL →
    /// `.revocationUnavailable`. nil when the path is valid.
    var cardError: CardAuthError? {
        if isValid { return nil }
        var expired: PathValidationError?, revoked: PathValidationError?, crl: PathValidationError?
        for e in errors {
            switch e.code {
            case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
                expired = expired ?? e
            case X509_V_ERR_CERT_REVOKED:
                revoked = revoked ?? e
            case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_CRL_NOT_YET_VALID,
                 X509_V_ERR_CRL_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE,
                 X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD,
                 X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD, X509_V_ERR_KEYUSAGE_NO_CRL_SIGN,
                 X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION, X509_V_ERR_DIFFERENT_CRL_SCOPE,
                 X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
                crl = crl ?? e
            default:
                return .untrusted("no valid path to a configured anchor (\(e))")
            }
        }
        if let expired { return CardAuthError(code: .cardCertExpired, message: "outside the validity period (\(expired))") }
        if let revoked { return CardAuthError(code: .cardCertRevoked, message: "revoked (\(revoked))") }
        if let crl { return CardAuthError(code: .revocationUnavailable, message: "no usable CRL (\(crl))") }
        return .untrusted("path validation failed without an error code (X509_verify_cert returned \(returnValue))")
    }
}
