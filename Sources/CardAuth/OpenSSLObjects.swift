internal import COpenSSL
import Foundation

// The one place CardAuth holds OpenSSL objects. Each wrapper owns one reference and frees it in
// deinit; none of these types is public.

/// An X.509 certificate. OpenSSL 3 guards its lazily computed caches (extension flags, public
/// key) with the object's own lock, so one instance is shared by concurrent verifications.
final class X509Ref: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
        // Fill the extension cache now, so that later readers only read it.
        _ = X509_check_purpose(pointer, -1, 0)
    }

    deinit { X509_free(pointer) }

    /// Exactly one DER certificate, nothing after it.
    convenience init?(der: [UInt8]) {
        guard !der.isEmpty else { return nil }
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let x = d2i_X509(nil, &cursor, buffer.count) else { return nil }
            if cursor != buffer.baseAddress! + buffer.count {
                X509_free(x)
                return nil
            }
            return x
        }
        ERR_clear_error()
        guard let parsed else { return nil }
        self.init(taking: parsed)
    }

    /// Every certificate of a PEM file (one or more blocks), or the single certificate of a DER file.
    static func parseFile(_ bytes: [UInt8]) -> [X509Ref]? {
        guard looksLikePEM(bytes) else { return X509Ref(der: bytes).map { [$0] } }
        var result: [X509Ref] = []
        let ok: Bool = withMemoryBIO(bytes) { bio in
            while let x = PEM_read_bio_X509(bio, nil, nil, nil) { result.append(X509Ref(taking: x)) }
            // The loop ends with "no start line" at the end of the input; anything else is an error.
            let err = ERR_peek_last_error()
            return result.isEmpty == false && (err == 0 || ERR_GET_REASON(err) == PEM_R_NO_START_LINE)
        }
        ERR_clear_error()
        return ok ? result : nil
    }

    var subjectDER: [UInt8] { nameDER(X509_get_subject_name(pointer)) }
    var issuerDER: [UInt8] { nameDER(X509_get_issuer_name(pointer)) }
    var publicKey: OpaquePointer? { X509_get0_pubkey(pointer) }
    var extensionFlags: UInt32 { X509_get_extension_flags(pointer) }
    var keyUsage: UInt32 { X509_get_key_usage(pointer) }

    /// The policy OIDs the certificate's own certificatePolicies extension lists (dotted form);
    /// nil when the extension is present but does not decode.
    var assertedPolicies: [String]? {
        var critical: Int32 = 0
        guard let raw = X509_get_ext_d2i(pointer, NID_certificate_policies, &critical, nil) else {
            ERR_clear_error()
            return critical == -1 ? [] : nil
        }
        let policies = OpaquePointer(raw)
        defer { CERTIFICATEPOLICIES_free(policies) }
        var result: [String] = []
        for i in 0..<kofu_sk_POLICYINFO_num(policies) {
            guard let info = kofu_sk_POLICYINFO_value(policies, i), let oid = info.pointee.policyid else { return nil }
            var buffer = [CChar](repeating: 0, count: 128)
            let length = OBJ_obj2txt(&buffer, Int32(buffer.count), oid, 1)
            guard length > 0 && Int(length) < buffer.count else { return nil }
            result.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return result
    }
}

/// A certificate revocation list.
final class CRLRef: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_CRL_free(pointer) }

    /// A DER or PEM CRL; nil when it does not parse (such a file counts as absent).
    convenience init?(file bytes: [UInt8]) {
        var parsed: OpaquePointer?
        if looksLikePEM(bytes) {
            parsed = withMemoryBIO(bytes) { PEM_read_bio_X509_CRL($0, nil, nil, nil) }
        } else {
            parsed = bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
                guard buffer.count > 0 else { return nil }
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
                guard let crl = d2i_X509_CRL(nil, &cursor, buffer.count) else { return nil }
                if cursor != buffer.baseAddress! + buffer.count {
                    X509_CRL_free(crl)
                    return nil
                }
                return crl
            }
        }
        ERR_clear_error()
        guard let parsed else { return nil }
        self.init(taking: parsed)
    }

    var issuerDER: [UInt8] { nameDER(X509_CRL_get_issuer(pointer)) }
    var issuerRFC2253: String { nameRFC2253(X509_CRL_get_issuer(pointer)) }
    var thisUpdate: Int64? { X509_CRL_get0_lastUpdate(pointer).flatMap(epochSeconds) }
    var nextUpdate: Int64? { X509_CRL_get0_nextUpdate(pointer).flatMap(epochSeconds) }
    var isDelta: Bool { X509_CRL_get_ext_by_NID(pointer, NID_delta_crl, -1) >= 0 }

    /// One lookup of a serial no certificate has (0), which makes OpenSSL sort the revoked
    /// entries now (it sorts lazily, at the first lookup).
    func prepareLookups() {
        guard let serial = ASN1_INTEGER_new() else { return }
        defer { ASN1_INTEGER_free(serial) }
        ASN1_INTEGER_set(serial, 0)
        var revoked: OpaquePointer? = nil
        _ = X509_CRL_get0_by_serial(pointer, &revoked, serial)
        ERR_clear_error()
    }

    /// The CRLNumber as a big-endian magnitude without leading zeros; `.absent` when the
    /// extension is missing, nil when it is present but does not decode.
    enum Number: Comparable {
        case absent
        case value([UInt8])

        static func < (a: Number, b: Number) -> Bool {
            switch (a, b) {
            case (.absent, .absent): false
            case (.absent, .value): true
            case (.value, .absent): false
            case (.value(let x), .value(let y)): x.count != y.count ? x.count < y.count : x.lexicographicallyPrecedes(y)
            }
        }
    }

    var number: Number? {
        var critical: Int32 = 0
        guard let raw = X509_CRL_get_ext_d2i(pointer, NID_crl_number, &critical, nil) else {
            ERR_clear_error()
            return critical == -1 ? .absent : nil
        }
        let integer = raw.assumingMemoryBound(to: ASN1_INTEGER.self)
        defer { ASN1_INTEGER_free(integer) }
        guard ASN1_STRING_type(integer) == V_ASN1_INTEGER, let bn = ASN1_INTEGER_to_BN(integer, nil) else { return nil }
        defer { BN_free(bn) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        _ = BN_bn2bin(bn, &bytes)
        return .value(bytes)
    }

    func isSigned(by key: OpaquePointer) -> Bool {
        defer { ERR_clear_error() }
        return X509_CRL_verify(pointer, key) == 1
    }
}

func looksLikePEM(_ bytes: [UInt8]) -> Bool {
    // PEM files may start with explanatory text; "-----BEGIN" anywhere near the start decides.
    let marker = Array("-----BEGIN ".utf8)
    guard bytes.count >= marker.count else { return false }
    let limit = min(bytes.count - marker.count, 4096)
    for start in 0...limit where bytes[start] == marker[0] && Array(bytes[start..<start + marker.count]) == marker {
        return true
    }
    return false
}

func withMemoryBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T) -> T {
    bytes.withUnsafeBytes { raw in
        let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count))!
        defer { BIO_free(bio) }
        return body(bio)
    }
}

/// The contents of a memory BIO filled by `body`.
func bioBytes(_ body: (OpaquePointer) -> Void) -> [UInt8] {
    let bio = BIO_new(BIO_s_mem())!
    defer { BIO_free(bio) }
    body(bio)
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = kofu_BIO_get_mem_data(bio, &data)
    guard length > 0, let data else { return [] }
    return data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
}

func nameDER(_ name: OpaquePointer?) -> [UInt8] {
    guard let name else { return [] }
    var out: UnsafeMutablePointer<UInt8>? = nil
    let length = i2d_X509_NAME(name, &out)
    guard length > 0, let out else { return [] }
    defer { kofu_OPENSSL_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: Int(length)))
}

func nameRFC2253(_ name: OpaquePointer?) -> String {
    guard let name else { return "" }
    let bytes = bioBytes { _ = X509_NAME_print_ex($0, name, 0, kofu_XN_FLAG_RFC2253()) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Seconds since 1970 of an ASN1_TIME (UTCTime or GeneralizedTime, as OpenSSL reads them).
func epochSeconds(_ time: UnsafePointer<ASN1_TIME>) -> Int64? {
    var days: Int32 = 0, seconds: Int32 = 0
    // The difference from the epoch avoids timegm and the process's time zone.
    guard let epoch = ASN1_TIME_set(nil, 0) else { return nil }
    defer { ASN1_TIME_free(epoch) }
    guard ASN1_TIME_diff(&days, &seconds, epoch, time) == 1 else {
        ERR_clear_error()
        return nil
    }
    return Int64(days) * 86_400 + Int64(seconds)
}
