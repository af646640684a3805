import CardAuth
import Foundation
import KofuTesting
import Testing

/// The byte-level entry points the fuzz harnesses call: the same checks as the configured files.
@Suite struct FileCheckTests {
    @Test func certificateFilesCountTheirCACertificates() throws {
        #expect(try TrustStore.checkCertificateFile(pki.rootDER()) == 1)
        #expect(try TrustStore.checkCertificateFile(bytes(pki.rootPEM() + pki.intermediatePEM())) == 2)
    }

    @Test func aCardOrGarbageIsNotACertificateFile() throws {
        let card = try pki.issueCard().certificateDER
        for (input, message) in [(card, "not a CA certificate"), (Array(card.dropLast()), "not a PEM or DER"),
                                 (bytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "not a PEM or DER"), ([], "not a PEM or DER")] {
            do {
                _ = try TrustStore.checkCertificateFile(input)
                Issue.record("accepted \(input.count) bytes")
            } catch {
                #expect(error.message.contains(message))
            }
        }
    }

    @Test func crlBytesAreJudgedAsCRLFolderFiles() throws {
        let (store, _) = try makeStore()
        let good = try pki.makeCRL(revoking: [], thisUpdate: now, nextUpdate: now + 86400, number: 7)
        #expect(store.acceptsCRL(good))
        #expect(store.acceptsCRL(try pki.makeCRL(revoking: [], thisUpdate: now, nextUpdate: now + 86400, number: 7, pem: true)))
        #expect(!store.acceptsCRL(try pki.makeCRL(revoking: [], thisUpdate: now, nextUpdate: now + 86400, number: 7, signature: .wrongKey)))
        #expect(!store.acceptsCRL(try pki.makeCRL(revoking: [], issuer: .untrusted, thisUpdate: now, nextUpdate: now + 86400, number: 7)))
        #expect(!store.acceptsCRL(Array(good.dropLast())))
        #expect(!store.acceptsCRL([]))
    }
}
