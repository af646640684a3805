@testable import CardAuth
import Foundation
import KofuTesting
import Testing

@Suite struct TestPKIChecks {
    @Test func tlsCertificatesChainToTheTLSCA() throws {
        let ca = try pki.tlsCAPEM()
        for client in [false, true] {
            let (certPEM, keyPEM) = try pki.issueTLS(commonName: client ? "center" : "kofu", client: client)
            #expect(keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
            var options = PathValidationOptions(time: now)
            options.revocation = .none
            options.purpose = client ? .clientAuth : .serverAuth
            let outcome = try PathValidator.validate(leaf: Array(certPEM.utf8), anchors: [Array(ca.utf8)],
                                                     untrusted: [], crls: [], options: options)
            #expect(outcome.isValid, "\(outcome.errors)")
        }
    }

    @Test func cardsDifferButShareTheKeyUnlessAsked() throws {
        let a = try pki.issueCard(), b = try pki.issueCard(), c = try pki.issueCard(.init(freshKey: true))
        #expect(a.certificateDER != b.certificateDER && a.serial != b.serial && a.sha256Hex != b.sha256Hex)
        #expect(a.privateKeyPEM() == b.privateKeyPEM())
        #expect(a.privateKeyPEM() != c.privateKeyPEM())
        #expect(a.certificatePEM().hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(pki.rootPEM().hasPrefix("-----BEGIN CERTIFICATE-----") && pki.intermediatePEM() != pki.rootPEM())
    }
}

@Test func aCardSurvivesItsPEMFiles() throws {
    let pki = try TestPKI()
    let card = try pki.issueCard()
    let copy = try TestCard(certificatePEM: card.certificatePEM(), privateKeyPEM: card.privateKeyPEM())
    #expect(copy.certificateDER == card.certificateDER)
    let payload = Array(#"{"a":1}"#.utf8)
    #expect(copy.sign(payload: payload) == card.sign(payload: payload))
}
