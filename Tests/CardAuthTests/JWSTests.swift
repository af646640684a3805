@testable import CardAuth
import Foundation
import KofuTesting
import Testing

let testCard = try! pki.issueCard()
let payload = bytes(#"{"requestId":"a","n":1}"#)
let b64cert = Data(testCard.certificateDER).base64EncodedString()

func header(_ json: String) -> [UInt8] { bytes(json) }
func jws(_ h: String, _ p: String = #"{"a":1}"#, signature: String = "c2ln") -> [UInt8] {
    bytes(TestCard.base64url(bytes(h)) + "." + TestCard.base64url(bytes(p)) + "." + signature)
}

let goodHeader = #"{"alg":"RS256","typ":"kofu-request","x5c":["\#(b64cert)"]}"#

@Suite struct CompactJWSSyntax {
    @Test func validRequestParsesAndVerifies() throws {
        let parsed = try CompactJWS.parse(testCard.sign(payload: payload))
        #expect(parsed.payload == payload)
        #expect(parsed.algorithm == "RS256")
        #expect(parsed.certificate.sha256Hex == testCard.sha256Hex)
        #expect(parsed.certificate.der == testCard.certificateDER)
        #expect(parsed.protectedHeader == testCard.header)
        try parsed.verifySignature()
    }

    static let malformedBodies: [(String, [UInt8])] = {
        let good = testCard.sign(payload: payload)
        let text = String(decoding: good, as: UTF8.self)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        return [
            ("empty body", []),
            ("two segments", bytes(parts[0] + "." + parts[1])),
            ("four segments", bytes(text + ".c2ln")),
            ("empty header", bytes("." + parts[1] + "." + parts[2])),
            ("empty payload", bytes(parts[0] + ".." + parts[2])),
            ("empty signature", bytes(parts[0] + "." + parts[1] + ".")),
            ("padding in signature", bytes(parts[0] + "." + parts[1] + "." + parts[2] + "=")),
            ("padding in payload", bytes(parts[0] + "." + TestCard.base64url(bytes("{}")) + "=." + parts[2])),
            ("plus in header", bytes("+" + parts[0].dropFirst() + "." + parts[1] + "." + parts[2])),
            ("slash in payload", bytes(parts[0] + "." + "/" + parts[1].dropFirst() + "." + parts[2])),
            ("space in signature", bytes(parts[0] + "." + parts[1] + "." + parts[2] + " ")),
            ("newline at end", good + [0x0A]),
            ("non-canonical last character", jws(goodHeader, "{}").dropLast(4) + bytes("QR")),
            ("segment of length 4n+1", bytes(parts[0] + "." + parts[1] + "." + parts[2] + String(repeating: "A", count: (5 - parts[2].count % 4) % 4))),
            ("duplicate header key", jws(#"{"alg":"RS256","alg":"RS256","typ":"kofu-request","x5c":["\#(b64cert)"]}"#)),
            ("trailing data after header", jws(goodHeader + "x")),
            ("second object after header", jws(goodHeader + "{}")),
            ("header not an object", jws(#"["RS256"]"#)),
            ("header not JSON", jws("alg=RS256")),
            ("unknown header member", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(b64cert)"],"kid":"1"}"#)),
            ("crit header member", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(b64cert)"],"crit":["b64"]}"#)),
            ("missing alg", jws(#"{"typ":"kofu-request","x5c":["\#(b64cert)"]}"#)),
            ("missing typ", jws(#"{"alg":"RS256","x5c":["\#(b64cert)"]}"#)),
            ("missing x5c", jws(#"{"alg":"RS256","typ":"kofu-request"}"#)),
            ("alg not a string", jws(#"{"alg":256,"typ":"kofu-request","x5c":["\#(b64cert)"]}"#)),
            ("alg null", jws(#"{"alg":null,"typ":"kofu-request","x5c":["\#(b64cert)"]}"#)),
            ("typ wrong", jws(#"{"alg":"RS256","typ":"JWT","x5c":["\#(b64cert)"]}"#)),
            ("typ differs in case", jws(#"{"alg":"RS256","typ":"Kofu-Request","x5c":["\#(b64cert)"]}"#)),
            ("x5c empty", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":[]}"#)),
            ("x5c two certificates", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(b64cert)","\#(b64cert)"]}"#)),
            ("x5c a string", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":"\#(b64cert)"}"#)),
            ("x5c entry not a string", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":[1]}"#)),
            ("x5c not base64", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["!!!!"]}"#)),
            ("x5c base64url", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(TestCard.base64url(testCard.certificateDER).replacingOccurrences(of: "+", with: "-"))-_"]}"#)),
            ("x5c with line breaks", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(b64cert.prefix(64))\n\#(b64cert.dropFirst(64))"]}"#)),
            ("x5c not a certificate", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(Data("hello".utf8).base64EncodedString())"]}"#)),
            ("x5c certificate with trailing byte", jws(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(Data(testCard.certificateDER + [0]).base64EncodedString())"]}"#)),
            ("payload not an object", jws(goodHeader, "[1]")),
            ("payload a string", jws(goodHeader, #""x""#)),
            ("payload duplicate key", jws(goodHeader, #"{"a":1,"a":2}"#)),
            ("payload trailing data", jws(goodHeader, #"{"a":1} 1"#)),
            ("payload invalid UTF-8", bytes(TestCard.base64url(bytes(goodHeader)) + "." + TestCard.base64url([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) + ".c2ln")),
        ]
    }()

    @Test(arguments: malformedBodies.indices)
    func malformed(_ index: Int) {
        let (name, body) = Self.malformedBodies[index]
        #expect(code { () throws(CardAuthError) in _ = try CompactJWS.parse(body) } == .malformedRequest, "\(name)")
    }

    @Test func headerWhitespaceAndMemberOrderAreAllowed() throws {
        let h = bytes(" {\n\t\"x5c\" : [ \"\(b64cert)\" ] ,\r\n \"typ\":\"kofu-request\", \"alg\" : \"RS256\" } \n")
        let body = testCard.sign(payload: bytes(" { \"a\" : 1 }\n"), header: h)
        let parsed = try CompactJWS.parse(body)
        try parsed.verifySignature()
        #expect(parsed.protectedHeader == h)
    }

    @Test func x5cWithoutPaddingIsAccepted() throws {
        // 3 bytes of DER padding-free would be rare; strip the padding of whatever length it has.
        let unpadded = b64cert.replacingOccurrences(of: "=", with: "")
        let h = bytes(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(unpadded)"]}"#)
        _ = try CompactJWS.parse(testCard.sign(payload: payload, header: h))
    }

    @Test func x5cEscapedSlashIsTheSameString() throws {
        // JSON may escape "/" as "\/"; the decoded string is what counts.
        let escaped = b64cert.replacingOccurrences(of: "/", with: "\\/")
        let h = bytes(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(escaped)"]}"#)
        _ = try CompactJWS.parse(testCard.sign(payload: payload, header: h))
    }

    @Test func nonRS256AlgIsParsedButNotVerified() throws {
        for alg in ["none", "HS256", "RS512", "PS256", "ES256", "rs256", "RS256 ", ""] {
            let h = bytes(#"{"alg":"\#(alg)","typ":"kofu-request","x5c":["\#(b64cert)"]}"#)
            let parsed = try CompactJWS.parse(testCard.sign(payload: payload, header: h))
            #expect(parsed.algorithm == alg)
            #expect(code { () throws(CardAuthError) in try parsed.verifySignature() } == .signatureInvalid, "\(alg)")
        }
    }

    @Test func signatureOverOtherBytesIsInvalid() throws {
        let input = bytes(TestCard.base64url(testCard.header) + "." + TestCard.base64url(payload))
        let other = bytes(TestCard.base64url(testCard.header) + "." + TestCard.base64url(bytes(#"{"requestId":"b","n":1}"#)))
        let forged = input + bytes(".") + bytes(TestCard.base64url(testCard.signature(over: other)))
        let parsed = try CompactJWS.parse(forged)
        #expect(code { () throws(CardAuthError) in try parsed.verifySignature() } == .signatureInvalid)
    }

    @Test func signatureByAnotherKeyIsInvalid() throws {
        let other = try pki.issueCard(.init(freshKey: true))
        let input = bytes(TestCard.base64url(testCard.header) + "." + TestCard.base64url(payload))
        let body = input + bytes(".") + bytes(TestCard.base64url(other.signature(over: input)))
        #expect(code { () throws(CardAuthError) in try CompactJWS.parse(body).verifySignature() } == .signatureInvalid)
    }

    @Test func truncatedOrGarbledSignatureIsInvalid() throws {
        let good = String(decoding: testCard.sign(payload: payload), as: UTF8.self)
        var parts = good.split(separator: ".").map(String.init)
        let signature = Base64.decodeURL(parts[2].utf8)!
        for variant in [Array(signature.dropLast()), [0] + signature, signature.map { $0 ^ 1 }, [1, 2, 3]] {
            parts[2] = TestCard.base64url(variant)
            let parsed = try CompactJWS.parse(bytes(parts.joined(separator: ".")))
            #expect(code { () throws(CardAuthError) in try parsed.verifySignature() } == .signatureInvalid)
        }
    }

    @Test func reencodedPayloadDoesNotVerify() throws {
        // The signature covers the transmitted bytes: the same JSON with other white space differs.
        let body = String(decoding: testCard.sign(payload: payload), as: UTF8.self)
        let parts = body.split(separator: ".").map(String.init)
        let spaced = parts[0] + "." + TestCard.base64url(bytes(#"{"requestId": "a","n":1}"#)) + "." + parts[2]
        #expect(code { () throws(CardAuthError) in try CompactJWS.parse(bytes(spaced)).verifySignature() } == .signatureInvalid)
    }

    @Test func certificateParsing() {
        #expect(code { () throws(CardAuthError) in _ = try CardCertificate(der: []) } == .malformedRequest)
        #expect(code { () throws(CardAuthError) in _ = try CardCertificate(der: testCard.certificateDER + [0]) } == .malformedRequest)
        #expect(code { () throws(CardAuthError) in _ = try CardCertificate(der: Array(testCard.certificateDER.dropLast())) } == .malformedRequest)
        #expect(code { () throws(CardAuthError) in _ = try CardCertificate(der: bytes(testCard.certificatePEM())) } == .malformedRequest)
    }
}

@Suite struct Base64Strictness {
    @Test func url() {
        #expect(Base64.decodeURL(bytes("")) == [])
        #expect(Base64.decodeURL(bytes("QQ")) == [0x41])
        #expect(Base64.decodeURL(bytes("QR")) == nil)
        #expect(Base64.decodeURL(bytes("QQ==")) == nil)
        #expect(Base64.decodeURL(bytes("-_8")) == [0xFB, 0xFF])
        #expect(Base64.decodeURL(bytes("+/8")) == nil)
        #expect(Base64.decodeURL(bytes("Q")) == nil)
    }

    @Test func standard() {
        #expect(Base64.decodeStandard(bytes("QQ==")) == [0x41])
        #expect(Base64.decodeStandard(bytes("QQ")) == [0x41])
        #expect(Base64.decodeStandard(bytes("QQ=")) == nil)
        #expect(Base64.decodeStandard(bytes("QQ===")) == nil)
        #expect(Base64.decodeStandard(bytes("Q===")) == nil)
        #expect(Base64.decodeStandard(bytes("+/8=")) == [0xFB, 0xFF])
        #expect(Base64.decodeStandard(bytes("-_8=")) == nil)
        #expect(Base64.decodeStandard(bytes("QUJD")) == bytes("ABC"))
        #expect(Base64.decodeStandard(bytes("QU=D")) == nil)
    }
}
