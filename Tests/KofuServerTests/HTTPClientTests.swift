import Foundation
import KofuHTTPClient
import Testing

// KofuHTTPClient against a real loopback server that is not ours: a small Python script
// (/usr/bin/python3, standard library only) with fixed answers per path, plain or TLS, with a test
// PKI made by the openssl command line. Every test starts its own server process and stops it.

@Suite struct HTTPClientTests {
    // MARK: plain HTTP

    @Test func keepAliveReusesOneConnectionAndSendsHost() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            let first = try await connection.send(method: "GET", path: "/conn")
            let hello = try await connection.send(method: "GET", path: "/hello")
            let second = try await connection.send(method: "GET", path: "/conn")
            #expect(first.status == 200 && hello.status == 200)
            #expect(first.bodyText == second.bodyText)
            #expect(hello.bodyText == "hello")
            #expect(hello.header("content-type") == "text/plain")
            #expect(hello.header("X-TWICE") == "a")
            #expect(hello.headers(named: "x-twice") == ["a", "b"])
            let echo = try await connection.send(method: "GET", path: "/echo")
            #expect(echo.header("X-Host") == "127.0.0.1:\(port)")
            #expect(echo.header("X-Request-Content-Length") == "none")
            #expect(await connection.isOpen)
            await connection.close()
            #expect(await !connection.isOpen)
            await #expect(throws: HTTPClientError.closed) {
                try await connection.send(method: "GET", path: "/hello")
            }
            await connection.close()  // twice is fine
        }
    }

    @Test func bodyWithContentLength() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "localhost", port: port)
            let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let echo = try await connection.send(
                method: "POST", path: "/echo", headers: [("Content-Type", "application/jose")], body: body)
            #expect(echo.status == 200)
            #expect(echo.body == body)
            #expect(echo.header("X-Request-Content-Length") == "200000")
            #expect(echo.header("X-Chunks") == "none")
            #expect(echo.header("X-Host") == "localhost:\(port)")
            let empty = try await connection.send(method: "POST", path: "/echo")
            #expect(empty.header("X-Request-Content-Length") == "0")
            #expect(empty.body.isEmpty)
            let host = try await connection.send(method: "GET", path: "/echo", headers: [("host", "center.example")])
            #expect(host.header("X-Host") == "center.example")
            await connection.close()
        }
    }

    @Test func chunkedUpload() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            let chunks: [[UInt8]] = [Array("abc".utf8), [], Array("defg".utf8), Array(repeating: 0x7A, count: 70_000)]
            let echo = try await connection.sendChunked(method: "POST", path: "/echo", chunks: chunks)
            #expect(echo.status == 200)
            #expect(echo.body == chunks.flatMap { $0 })
            #expect(echo.header("X-Chunks") == "3,4,70000")
            #expect(echo.header("X-Request-Content-Length") == "none")
            // The connection stays usable after a chunked request.
            let none = try await connection.sendChunked(method: "POST", path: "/echo", chunks: [])
            #expect(none.header("X-Chunks") == "")
            #expect(try await connection.send(method: "GET", path: "/hello").bodyText == "hello")
            await connection.close()
        }
    }

    @Test func serverClosingAfterAResponse() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            let bye = try await connection.send(method: "GET", path: "/close")
            #expect(bye.status == 200 && bye.bodyText == "bye")
            #expect(await !connection.isOpen)
            await #expect(throws: HTTPClientError.closed) {
                try await connection.send(method: "GET", path: "/hello")
            }
            await connection.close()
        }
    }

    @Test(arguments: [false, true])
    func answer413BeforeTheBodyWasSent(chunked: Bool) async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            let big = [UInt8](repeating: 0x41, count: 8 << 20)
            let response = chunked
                ? try await connection.sendChunked(
                    method: "POST", path: "/limit", chunks: Array(repeating: Array(big[..<65536]), count: 128))
                : try await connection.send(method: "POST", path: "/limit", body: big)
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            #expect(response.bodyText == #"{"code":"PAYLOAD_TOO_LARGE"}"#)
            #expect(await !connection.isOpen)
            await #expect(throws: HTTPClientError.closed) {
                try await connection.send(method: "GET", path: "/hello")
            }
            await connection.close()
            // Under the limit, the same path answers normally.
            let small = try await HTTPClient.request(
                host: "127.0.0.1", port: port, method: "POST", path: "/limit", body: Array("ok".utf8))
            #expect(small.status == 200 && small.bodyText == "ok")
        }
    }

    /// A server that closes at once, unread body and all, may reset the connection: the answer is
    /// returned if it arrived, otherwise `.closed`, and nothing hangs.
    @Test func abruptCloseDuringTheBody() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            do {
                let response = try await connection.send(
                    method: "POST", path: "/limit-abrupt", body: [UInt8](repeating: 0x41, count: 8 << 20),
                    timeout: .seconds(5))
                #expect(response.status == 413)
            } catch let error as HTTPClientError {
                #expect(error == .closed)
            }
            #expect(await !connection.isOpen)
            await connection.close()
        }
    }

    @Test func responseFraming() async throws {
        try await withServer { port in
            let eof = try await HTTPClient.request(host: "127.0.0.1", port: port, method: "GET", path: "/eof-body")
            #expect(eof.status == 200 && eof.bodyText == "until-eof")
            let chunked = try await HTTPClient.request(
                host: "127.0.0.1", port: port, method: "GET", path: "/chunked-response")
            #expect(chunked.bodyText == "hello")
            #expect(chunked.header("transfer-encoding") == "chunked")
            let missing = try await HTTPClient.request(host: "127.0.0.1", port: port, method: "GET", path: "/nowhere")
            #expect(missing.status == 404 && missing.body.isEmpty)
        }
    }

    @Test func brokenResponses() async throws {
        try await withServer { port in
            let truncated = await #expect(throws: HTTPClientError.self) {
                try await HTTPClient.request(host: "127.0.0.1", port: port, method: "GET", path: "/truncated")
            }
            #expect(truncated.map(isProtocolError) == true)
            let garbage = await #expect(throws: HTTPClientError.self) {
                try await HTTPClient.request(host: "127.0.0.1", port: port, method: "GET", path: "/garbage")
            }
            #expect(garbage.map(isProtocolError) == true)
            await #expect(throws: HTTPClientError.closed) {
                try await HTTPClient.request(host: "127.0.0.1", port: port, method: "GET", path: "/hangup")
            }
        }
    }

    @Test func requestTimeoutClosesTheConnection() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            // The timeout error itself shows the deadline fired before /slow answered (no wall-clock
            // assertion: the machine may be loaded).
            await #expect(throws: HTTPClientError.timeout) {
                try await connection.send(method: "GET", path: "/slow", timeout: .milliseconds(300))
            }
            #expect(await !connection.isOpen)
            await connection.close()
        }
    }

    @Test func cancellationFailsTheRequest() async throws {
        try await withServer { port in
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            let task = Task { try await connection.send(method: "GET", path: "/slow") }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(await !connection.isOpen)
            await connection.close()
        }
    }

    @Test func connectionRefused() async throws {
        let port = try unusedPort()
        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPConnection.connect(host: "127.0.0.1", port: port, timeout: .seconds(2))
        }
        guard case .connect = error else {
            Issue.record("expected .connect, got \(String(describing: error))")
            return
        }
    }

    @Test func concurrentConnectionsAndQueuedSends() async throws {
        try await withServer { port in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
                        for round in 0..<5 {
                            let body = Array("\(index)-\(round)".utf8)
                            let echo = try await connection.send(method: "POST", path: "/echo", body: body)
                            #expect(echo.body == body)
                        }
                        await connection.close()
                    }
                }
                try await group.waitForAll()
            }
            // Sends from several tasks on one connection are queued, never interleaved.
            let shared = try await HTTPConnection.connect(host: "127.0.0.1", port: port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let body = Array("request \(index)".utf8)
                        let echo = try await shared.send(method: "POST", path: "/echo", body: body)
                        #expect(echo.body == body)
                    }
                }
                try await group.waitForAll()
            }
            await shared.close()
        }
    }

    // MARK: TLS

    @Test(arguments: ["127.0.0.1", "localhost"])
    func tlsWithACustomTrustRoot(host: String) async throws {
        let pki = try PKI.shared.get()
        try await withServer(["tls", pki.path("server.pem"), pki.path("server.key")]) { port in
            let tls = TLSClientOptions(trustRootsPEM: try pki.pem("ca.pem"))
            let connection = try await HTTPConnection.connect(host: host, port: port, tls: tls)
            #expect(try await connection.send(method: "GET", path: "/hello").bodyText == "hello")
            let echo = try await connection.sendChunked(method: "PUT", path: "/echo", chunks: [[1, 2], [3]])
            #expect(echo.body == [1, 2, 3] && echo.header("X-Chunks") == "2,1")
            #expect(echo.header("X-Host") == "\(host):\(port)")
            await connection.close()
        }
    }

    @Test func tlsRefusesAnUntrustedServerOrUnusablePEM() async throws {
        let pki = try PKI.shared.get()
        try await withServer(["tls", pki.path("server.pem"), pki.path("server.key")]) { port in
            let untrusted = TLSClientOptions(trustRootsPEM: try pki.pem("other.pem"))
            try await expectTLSError {
                try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: untrusted)
            }
            let garbage = TLSClientOptions(trustRootsPEM: "not a certificate")
            try await expectTLSError {
                try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: garbage)
            }
        }
    }

    /// A plain HTTP server never answers the ClientHello: the handshake times out within `timeout`.
    @Test func tlsHandshakeTimeout() async throws {
        let pki = try PKI.shared.get()
        try await withServer { port in
            let tls = TLSClientOptions(trustRootsPEM: try pki.pem("ca.pem"))
            await #expect(throws: HTTPClientError.timeout) {
                try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: tls, timeout: .milliseconds(300))
            }
        }
    }

    /// `serverHostname` names the certificate to expect when connecting by address. (NIOSSL also
    /// accepts a certificate whose IP SAN is the connected address, whatever the name.)
    @Test func tlsServerHostname() async throws {
        let pki = try PKI.shared.get()
        try await withServer(["tls", pki.path("named.pem"), pki.path("named.key")]) { port in
            let roots = try pki.pem("ca.pem")
            let named = TLSClientOptions(trustRootsPEM: roots, serverHostname: "center.example")
            let response = try await HTTPClient.request(
                host: "127.0.0.1", port: port, method: "GET", path: "/hello", tls: named)
            #expect(response.bodyText == "hello")
            let misnamed = [
                TLSClientOptions(trustRootsPEM: roots),
                TLSClientOptions(trustRootsPEM: roots, serverHostname: "other.example"),
            ]
            for misnamed in misnamed {
                try await expectTLSError {
                    try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: misnamed)
                }
            }
        }
    }

    @Test func mutualTLS() async throws {
        let pki = try PKI.shared.get()
        let server = ["tls", pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem")]
        try await withServer(server) { port in
            let tls = TLSClientOptions(
                trustRootsPEM: try pki.pem("ca.pem"), clientCertificatePEM: try pki.pem("client.pem"),
                clientKeyPEM: try pki.pem("client.key"))
            let response = try await HTTPClient.request(
                host: "127.0.0.1", port: port, method: "POST", path: "/echo", body: [42], tls: tls)
            #expect(response.status == 200 && response.body == [42])

            // Refused in the handshake: with TLS 1.3 the client learns it on its first read.
            let anonymous = TLSClientOptions(trustRootsPEM: try pki.pem("ca.pem"))
            let stranger = TLSClientOptions(
                trustRootsPEM: try pki.pem("ca.pem"), clientCertificatePEM: try pki.pem("stranger.pem"),
                clientKeyPEM: try pki.pem("stranger.key"))
            for options in [anonymous, stranger] {
                try await expectTLSError {
                    let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: options)
                    do {
                        _ = try await connection.send(method: "GET", path: "/hello", timeout: .seconds(5))
                    } catch {
                        await connection.close()
                        throw error
                    }
                    await connection.close()
                }
            }
            let halfClient = TLSClientOptions(trustRootsPEM: try pki.pem("ca.pem"), clientCertificatePEM: try pki.pem("client.pem"))
            try await expectTLSError {
                try await HTTPConnection.connect(host: "127.0.0.1", port: port, tls: halfClient)
            }
        }
    }
}

// MARK: - Support

private func isProtocolError(_ error: HTTPClientError) -> Bool {
    if case .protocolError = error { return true }
    return false
}

private func expectTLSError<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async throws {
    do {
        _ = try await body()
        Issue.record("expected HTTPClientError.tls, but it succeeded", sourceLocation: sourceLocation)
    } catch let error as HTTPClientError {
        guard case .tls = error else {
            Issue.record("expected HTTPClientError.tls, got \(error)", sourceLocation: sourceLocation)
            return
        }
    }
}

private func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard ok else { throw TestServerError("cannot bind a probe socket") }
    return Int(UInt16(bigEndian: address.sin_port))  // closed again at once: nothing listens there
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with the port of a fresh test server, and stops the server afterwards.
private func withServer<T>(_ arguments: [String] = [], _ body: (Int) async throws -> T) async throws -> T {
    let script = try Scratch.shared.get().path("server.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [script] + arguments
    let output = Pipe(), input = Pipe()
    process.standardOutput = output
    process.standardInput = input
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
        // Closing its stdin stops the server even if a signal should not reach it.
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }
    var line = Data()
    while !line.contains(0x0A) {
        let data = output.fileHandleForReading.availableData
        if data.isEmpty { break }
        line.append(data)
    }
    guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw TestServerError("the test server did not start")
    }
    return try await body(port)
}

/// A temporary directory holding the server script (and the PKI), made once per test process.
private struct Scratch: Sendable {
    let directory: String
    static let shared = Result { try Scratch() }

    init() throws {
        directory = NSTemporaryDirectory() + "kofu-httpclient-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(serverScript.utf8).write(to: URL(fileURLWithPath: path("server.py")))
    }

    func path(_ name: String) -> String { directory + "/" + name }
}

/// Two CAs (ca, other), a server certificate from ca for 127.0.0.1 and localhost, one for
/// center.example only, a client certificate from ca and one from other. EC P-256, so that
/// making them takes a fraction of a second.
private struct PKI: Sendable {
    let directory: String
    static let shared = Result { try PKI() }

    init() throws {
        directory = try Scratch.shared.get().path("pki")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = directory + "/make.sh"
        try Data(pkiScript.utf8).write(to: URL(fileURLWithPath: script))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "cd \"$1\" && sh make.sh >/dev/null 2>&1", "sh", directory]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestServerError("openssl could not make the test PKI") }
    }

    func path(_ name: String) -> String { directory + "/" + name }
    func pem(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
}

private let pkiScript = #"""
set -e
cat > pki.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[named]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:center.example
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
for ca in ca other; do
  key $ca
  openssl req -config pki.cnf -new -x509 -key $ca.key -subj "/CN=kofu test $ca" -days 2 -extensions ca -out $ca.pem
done
leaf() { # name issuer extensions
  key $1
  openssl req -config pki.cnf -new -key $1.key -subj "/CN=kofu test $1" -out $1.csr
  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -set_serial $4 -days 2 -extfile pki.cnf -extensions $3 -out $1.pem 2>/dev/null
}
leaf server ca server 2
leaf named ca named 5
leaf client ca client 3
leaf stranger other client 4
"""#

private let serverScript = #"""
# Test server for HTTPClientTests: fixed answers per path, plain or TLS (optionally mutual).
import os, signal, socket, ssl, sys, threading, time

# The test process blocks most signals in its threads and the mask is inherited: unblock SIGTERM so
# that Process.terminate() works, and also exit when stdin closes (the test holds its write end).
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
signal.signal(signal.SIGTERM, signal.SIG_DFL)

def exit_when_stdin_closes():
    while sys.stdin.buffer.read(1):
        pass
    os._exit(0)

threading.Thread(target=exit_when_stdin_closes, daemon=True).start()

args = sys.argv[1:]
ctx = None
if args and args[0] == "tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args[1], args[2])
    if len(args) > 3:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args[3])

LIMIT = 1024
counter = [0]
lock = threading.Lock()

class Closed(Exception):
    pass

class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""
    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data
    def until(self, marker):
        while marker not in self.buf:
            self.fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out
    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

def respond(sock, status, body=b"", headers=(), length=True):
    reason = {200: "OK", 413: "Payload Too Large", 404: "Not Found"}.get(status, "X")
    lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % h for h in headers]
    if length:
        lines.append("Content-Length: %d" % len(body))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

def read_chunked(r, limit=None):
    sizes, body = [], b""
    while True:
        size = int(r.until(b"\r\n")[:-2].split(b";")[0], 16)
        if size == 0:
            r.until(b"\r\n")
            return sizes, body
        body += r.exactly(size)
        r.exactly(2)
        sizes.append(size)
        if limit is not None and len(body) > limit:
            return None, body

def refuse_413(sock, drain):
    respond(sock, 413, b'{"code":"PAYLOAD_TOO_LARGE"}', [("Content-Type", "application/problem+json"), ("Connection", "close")])
    if drain:
        # What a careful server does: stop writing, read and discard for a while, then close,
        # so that the client's unsent body cannot turn into a reset that destroys the answer.
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass
    sock.close()

def handle(sock, conn_id):
    r = Reader(sock)
    while True:
        head = r.until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        method, target, _ = lines[0].split(" ")
        headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if l]
        h = {k.lower(): v for k, v in headers}
        chunked = h.get("transfer-encoding", "").lower() == "chunked"
        length = int(h.get("content-length", "0"))
        if target.startswith("/limit"):
            drain = target == "/limit"
            if chunked:
                sizes, body = read_chunked(r, LIMIT)
                if sizes is None:
                    return refuse_413(sock, drain)
            elif length > LIMIT:
                return refuse_413(sock, drain)
            else:
                body = r.exactly(length)
            respond(sock, 200, body)
            continue
        if chunked:
            sizes, body = read_chunked(r)
        else:
            sizes, body = None, r.exactly(length)
        if target == "/hello":
            respond(sock, 200, b"hello", [("Content-Type", "text/plain"), ("X-Twice", "a"), ("x-twice", "b")])
        elif target == "/conn":
            respond(sock, 200, str(conn_id).encode())
        elif target == "/echo":
            respond(sock, 200, body, [
                ("X-Method", method), ("X-Host", h.get("host", "")),
                ("X-Request-Content-Length", h.get("content-length", "none")),
                ("X-Chunks", ",".join(map(str, sizes)) if sizes is not None else "none")])
        elif target == "/close":
            respond(sock, 200, b"bye", [("Connection", "close")])
            return sock.close()
        elif target == "/eof-body":
            respond(sock, 200, b"until-eof", [("Connection", "close")], length=False)
            return sock.close()
        elif target == "/chunked-response":
            sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n")
        elif target == "/truncated":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            return sock.close()
        elif target == "/garbage":
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            time.sleep(0.5)
            return sock.close()
        elif target == "/hangup":
            return sock.close()
        elif target == "/slow":
            time.sleep(5)
            respond(sock, 200, b"late")
        else:
            respond(sock, 404, b"")

def serve(conn):
    with lock:
        counter[0] += 1
        conn_id = counter[0]
    try:
        if ctx is not None:
            conn = ctx.wrap_socket(conn, server_side=True)
        handle(conn, conn_id)
    except (Closed, OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""#
