import NIOSSL

/// TLS for a connection: the roots the server's certificate must chain to (only these: the system
/// store is not consulted), and optionally a client certificate for mutual TLS.
///
/// The TLS context is built once, in `init`, and shared by every connection made with this value,
/// so a load test opening hundreds of connections parses the PEM once. `init` does not throw: a
/// PEM that cannot be used is reported as `HTTPClientError.tls` by `HTTPConnection.connect`.
public struct TLSClientOptions: Sendable {
    /// The name checked against the server certificate and sent as SNI; `nil` means the `host` passed
    /// to `connect`. For an IP address host, no SNI is sent and the certificate's IP SAN is checked.
    public let serverHostname: String?
    let context: Result<NIOSSLContext, HTTPClientError>

    public init(
        trustRootsPEM: String, clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil,
        serverHostname: String? = nil
    ) {
        self.serverHostname = serverHostname
        self.context = Result {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            // `close()` waits for the peer's close_notify at most this long.
            configuration.shutdownTimeout = .seconds(2)
            let roots = try Self.certificates(trustRootsPEM, what: "trust roots")
            configuration.trustRoots = .certificates(roots)
            switch (clientCertificatePEM, clientKeyPEM) {
            case (nil, nil):
                break
            case (let certificatePEM?, let keyPEM?):
                let chain = try Self.certificates(certificatePEM, what: "client certificate")
                configuration.certificateChain = chain.map { .certificate($0) }
                do {
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
                } catch {
                    throw HTTPClientError.tls("client key: \(error)")
                }
            default:
                throw HTTPClientError.tls("a client certificate needs both clientCertificatePEM and clientKeyPEM")
            }
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw HTTPClientError.tls("TLS context: \(error)")
            }
        }.mapError { $0 as? HTTPClientError ?? .tls(String(describing: $0)) }
    }

    private static func certificates(_ pem: String, what: String) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
        } catch {
            throw HTTPClientError.tls("\(what): \(error)")
        }
        guard !certificates.isEmpty else { throw HTTPClientError.tls("\(what): no certificate in the PEM") }
        return certificates
    }
}
