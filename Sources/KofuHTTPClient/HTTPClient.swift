// KofuHTTPClient: a small HTTP/1.1 client on SwiftNIO for `kofu demo`, `kofu loadtest` and the
// server's wire tests. One `HTTPConnection` is one keep-alive TCP (optionally TLS) connection;
// requests on it go strictly one after another. There is no pool and no automatic reconnect: a
// caller that wants one more request after the server closed opens a new connection (see
// `HTTPConnection.isOpen`), so a test always knows which connection a request travelled on.

/// A complete response: status, headers in wire order, and the whole body.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name, compared ASCII case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// All values of a header, in wire order.
    public func headers(named name: String) -> [String] {
        headers.filter { asciiCaseInsensitiveEqual($0.name, name) }.map(\.value)
    }

    /// The body decoded as UTF-8 (invalid sequences replaced), for tests and messages.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What can go wrong. Each case says where it went wrong, not what the server thought of the request:
/// any response the server completed, whatever its status, is returned, never thrown.
public enum HTTPClientError: Error, Sendable, Equatable {
    /// The TCP connection could not be established (refused, unreachable, name not resolved).
    case connect(String)
    /// The TLS handshake failed or a TLS alert arrived: untrusted or misnamed server certificate,
    /// a client certificate the server refused (with TLS 1.3 this may surface on the first `send`,
    /// since the server judges the client certificate after the client's handshake finished),
    /// or unusable PEM in `TLSClientOptions`.
    case tls(String)
    /// The server sent something that is not a valid HTTP/1.1 response (or a response truncated
    /// before its declared end), or an unsolicited response.
    case protocolError(String)
    /// The connect, handshake or request did not finish within its timeout. The connection is closed.
    case timeout
    /// The connection was closed (by the server, by `close()`, or after an earlier failure) before a
    /// complete response arrived.
    case closed
}

/// One-shot requests.
public enum HTTPClient {
    /// Connects, sends one request, and closes the connection whatever happened.
    public static func request(
        host: String, port: Int, method: String, path: String, headers: [(String, String)] = [],
        body: [UInt8]? = nil, tls: TLSClientOptions? = nil
    ) async throws -> HTTPResponse {
        let connection = try await HTTPConnection.connect(host: host, port: port, tls: tls)
        do {
            let response = try await connection.send(method: method, path: path, headers: headers, body: body)
            await connection.close()
            return response
        } catch {
            await connection.close()
            throw error
        }
    }
}

func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    return zip(x, y).allSatisfy { lowerASCII($0) == lowerASCII($1) }
}

@inline(__always) private func lowerASCII(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
