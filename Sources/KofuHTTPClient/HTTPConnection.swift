import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One keep-alive HTTP/1.1 connection; requests are sent one after another (no pipelining).
///
/// All state lives in a handler on the channel's event loop, so the connection is `Sendable`: calls
/// from several tasks at once are queued and go out in the order they reached the event loop, each
/// after the previous response ended. A load test wanting parallel requests opens several
/// connections.
///
/// Closing, whoever does it:
/// - A response with `Connection: close` (or an HTTP/1.0 response without keep-alive) is returned,
///   and the connection is closed at once. `isOpen` is then false and every later `send` fails with
///   `HTTPClientError.closed`. There is no automatic reconnect: open a new connection.
/// - The server closing while the request body is still being written (a 413 before the body was
///   read): the response is returned if it arrived complete before the close, otherwise `.closed`.
/// - The server closing an idle connection (keep-alive timeout) is noticed when it happens; a `send`
///   racing with that close fails with `.closed` and may be retried on a new connection.
/// - A timeout or a cancelled task fails that request and closes the connection (the late response
///   would otherwise be taken for the next request's). Requests queued behind it fail with `.closed`.
/// - `close()` fails whatever is outstanding with `.closed`. Dropping the last reference without
///   `close()` closes the channel too.
public final class HTTPConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<ConnectionHandler>
    /// The `Host` header value sent unless the caller gives one.
    private let authority: String

    private init(channel: any Channel, handler: NIOLoopBound<ConnectionHandler>, authority: String) {
        self.channel = channel
        self.handler = handler
        self.authority = authority
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Connects, and with `tls` completes the TLS handshake, all within `timeout`.
    public static func connect(
        host: String, port: Int, tls: TLSClientOptions? = nil,
        on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: Duration = .seconds(10)
    ) async throws -> HTTPConnection {
        let sslContext = try tls?.context.get()
        let isIPAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let serverName = tls?.serverHostname ?? (isIPAddress ? nil : host)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)

        let channel: any Channel
        let handler: NIOLoopBound<ConnectionHandler>
        let handshake: EventLoopFuture<Void>
        do {
            (channel, handler, handshake) = try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        do {
                            try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                        } catch {
                            throw HTTPClientError.tls("server name \(serverName ?? ""): \(error)")
                        }
                    }
                    var encoder = HTTPRequestEncoder.Configuration()
                    // The framing headers are exactly the ones `send` puts in (or the caller chose).
                    encoder.automaticallySetFramingHeaders = false
                    try pipeline.addHTTPClientHandlers(encoderConfiguration: encoder)
                    let handler = ConnectionHandler(tls: sslContext != nil, eventLoop: channel.eventLoop)
                    try pipeline.addHandler(handler)
                    return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.handshake.futureResult)
                }
            }
        } catch {
            throw Self.connectError(error)
        }

        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            handler.value.handshake.fail(HTTPClientError.timeout)
        }
        do {
            try await withTaskCancellationHandler {
                try await handshake.get()
            } onCancel: {
                channel.eventLoop.execute { handler.value.handshake.fail(CancellationError()) }
            }
            timer.cancel()
        } catch {
            timer.cancel()
            try? await channel.close()
            throw error is CancellationError ? error : ConnectionHandler.handshakeError(error)
        }
        let defaultPort = tls == nil ? 80 : 443
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return HTTPConnection(
            channel: channel, handler: handler,
            authority: port == defaultPort ? hostPart : "\(hostPart):\(port)")
    }

    /// Sends one request and returns the complete response, whatever its status.
    ///
    /// Unless `headers` has them, adds `Host` and, for a body (or a POST, PUT or PATCH without one),
    /// `Content-Length`. A `Content-Length` or `Transfer-Encoding` the caller gives is sent as given,
    /// body framing included, so that tests can send a body that disagrees with its headers.
    public func send(
        method: String, path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> HTTPResponse {
        var head = makeHead(method: method, path: path, headers: headers)
        if !head.headers.contains(name: "content-length") && !head.headers.contains(name: "transfer-encoding") {
            if let body {
                head.headers.add(name: "Content-Length", value: String(body.count))
            } else if ["POST", "PUT", "PATCH"].contains(method.uppercased()) {
                head.headers.add(name: "Content-Length", value: "0")
            }
        }
        let payload: PendingRequest.Body = body.map { .whole(ByteBuffer(bytes: $0)) } ?? .none
        return try await perform(head: head, body: payload, timeout: timeout)
    }

    /// Sends the body in the given chunks with `Transfer-Encoding: chunked`, one flush per chunk
    /// (empty chunks are skipped: a zero-length chunk would end the body). For testing the server's
    /// chunked handling and its 413-before-parse limit.
    public func sendChunked(
        method: String, path: String, headers: [(String, String)] = [], chunks: [[UInt8]],
        timeout: Duration = .seconds(30)
    ) async throws -> HTTPResponse {
        var head = makeHead(method: method, path: path, headers: headers)
        if !head.headers.contains(name: "transfer-encoding") {
            head.headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        return try await perform(
            head: head, body: .chunks(chunks.map { ByteBuffer(bytes: $0) }), timeout: timeout)
    }

    /// False once the connection can carry no further request (closed by either side, or failed).
    public var isOpen: Bool {
        get async {
            let handler = self.handler
            return (try? await channel.eventLoop.submit { handler.value.isUsable }.get()) ?? false
        }
    }

    /// Closes the connection; outstanding requests fail with `.closed`. Safe to call twice.
    public func close() async {
        try? await channel.close()
    }

    private func makeHead(method: String, path: String, headers: [(String, String)]) -> HTTPRequestHead {
        var fields = HTTPHeaders(headers)
        if !fields.contains(name: "host") {
            fields.add(name: "Host", value: authority)
        }
        return HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: fields)
    }

    private func perform(head: HTTPRequestHead, body: PendingRequest.Body, timeout: Duration) async throws -> HTTPResponse {
        let eventLoop = channel.eventLoop
        let request = PendingRequest(
            head: head, body: body, deadline: .now() + TimeAmount(timeout),
            promise: eventLoop.makePromise(of: HTTPResponse.self))
        let handler = self.handler
        eventLoop.execute { handler.value.enqueue(request) }
        return try await withTaskCancellationHandler {
            try await request.promise.futureResult.get()
        } onCancel: {
            eventLoop.execute { handler.value.fail(request.id, with: CancellationError()) }
        }
    }

    private static func connectError(_ error: any Error) -> HTTPClientError {
        switch error {
        case let error as HTTPClientError: error
        case ChannelError.connectTimeout: .timeout
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError: .tls(String(describing: error))
        default: .connect(String(describing: error))
        }
    }
}
