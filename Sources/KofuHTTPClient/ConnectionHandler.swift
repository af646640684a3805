import NIOCore
import NIOHTTP1
import NIOSSL

/// One request waiting for, or travelling on, the connection.
struct PendingRequest: Sendable {
    enum Body: Sendable {
        case none
        case whole(ByteBuffer)
        case chunks([ByteBuffer])
    }

    let head: HTTPRequestHead
    let body: Body
    let deadline: NIODeadline
    let promise: EventLoopPromise<HTTPResponse>

    var id: ObjectIdentifier { ObjectIdentifier(promise.futureResult) }
}

/// The connection's state machine; lives on the channel's event loop, after the HTTP codec.
///
/// Requests queue here and go out one at a time: the next head is written only once the previous
/// response has ended. A response completes a request as soon as its `.end` arrives, even while the
/// request body is still being written (a server answering 413 early); write failures are therefore
/// never reported on their own: they close the channel, and the request fails with `.closed` only
/// if no complete response arrived before the close.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private struct InFlight {
        var request: PendingRequest
        var timeout: Scheduled<Void>?
        var head: HTTPResponseHead?
        var body: ByteBuffer?
    }

    /// Succeeded when TLS is up (or at once without TLS); failed with an `HTTPClientError`.
    let handshake: EventLoopPromise<Void>
    private var handshakeDone: Bool
    private var context: ChannelHandlerContext?
    private var current: InFlight?
    private var queue: [(request: PendingRequest, timeout: Scheduled<Void>?)] = []
    /// Set once the connection cannot carry another request; later requests fail with it.
    private var terminalError: HTTPClientError?

    init(tls: Bool, eventLoop: any EventLoop) {
        handshake = eventLoop.makePromise(of: Void.self)
        handshakeDone = !tls
        if !tls { handshake.succeed() }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A handshake still pending when the handler goes (a refused mutual-TLS handshake can end
        // this way) must fail, or its promise leaks and NIO traps.
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(HTTPClientError.tls("the connection closed during the TLS handshake"))
        }
        failAll(.closed)
        self.context = nil
    }

    /// Whether another request can go out on this connection.
    var isUsable: Bool { terminalError == nil && context?.channel.isActive == true }

    // MARK: requests

    func enqueue(_ request: PendingRequest) {
        guard terminalError == nil, let context else {
            request.promise.fail(terminalError ?? .closed)
            return
        }
        let id = request.id
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: request.deadline) { [self] in
            fail(id, with: HTTPClientError.timeout)
        }
        queue.append((request, timeout))
        startNextIfIdle()
    }

    /// Fails one request (timeout, cancellation). A request already on the wire takes the
    /// connection with it: its response may still arrive and would be taken for the next one's.
    func fail(_ id: ObjectIdentifier, with error: any Error) {
        if let index = queue.firstIndex(where: { $0.request.id == id }) {
            let (request, timeout) = queue.remove(at: index)
            timeout?.cancel()
            request.promise.fail(error)
        } else if let inFlight = current, inFlight.request.id == id {
            current = nil
            inFlight.timeout?.cancel()
            shutDown(.closed)
            inFlight.request.promise.fail(error)
        }
    }

    private func startNextIfIdle() {
        guard current == nil, terminalError == nil, !queue.isEmpty, let context else { return }
        let (request, timeout) = queue.removeFirst()
        current = InFlight(request: request, timeout: timeout)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        switch request.body {
        case .none:
            break
        case .whole(let buffer):
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .chunks(let chunks):
            // One flush per chunk, so that the server sees them arrive as separate chunks.
            for chunk in chunks where chunk.readableBytes > 0 {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
            }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    // MARK: responses

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard var inFlight = current else {
            shutDown(.protocolError("a response arrived with no request outstanding"))
            return
        }
        switch part {
        case .head(let head):
            inFlight.head = head
            current = inFlight
        case .body(var buffer):
            if inFlight.body == nil {
                inFlight.body = buffer
            } else {
                inFlight.body!.writeBuffer(&buffer)
            }
            current = inFlight
        case .end:
            current = nil
            inFlight.timeout?.cancel()
            guard let head = inFlight.head else {
                shutDown(.protocolError("a response ended before its head"))
                inFlight.request.promise.fail(HTTPClientError.protocolError("a response ended before its head"))
                return
            }
            let response = HTTPResponse(
                status: Int(head.status.code),
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: inFlight.body.map { Array($0.readableBytesView) } ?? [])
            // Close before answering, so that `isOpen` is already false when the caller resumes.
            if !head.isKeepAlive || !inFlight.request.head.isKeepAlive {
                shutDown(.closed)
            }
            inFlight.request.promise.succeed(response)
            startNextIfIdle()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !handshakeDone && Self.isHandshakeCompleted(event) {
            handshakeDone = true
            handshake.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let mapped = Self.map(error, truncated: current?.head != nil)
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(Self.handshakeError(error))
        }
        shutDown(mapped)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(HTTPClientError.tls("the server closed the connection during the TLS handshake"))
        }
        failAll(terminalError ?? .closed)
        context.fireChannelInactive()
    }

    // MARK: closing

    /// Marks the connection unusable, fails what is waiting, and closes the channel.
    private func shutDown(_ error: HTTPClientError) {
        if terminalError == nil { terminalError = error }
        failAll(error)
        context?.close(promise: nil)
    }

    private func failAll(_ error: HTTPClientError) {
        if terminalError == nil { terminalError = error }
        if let inFlight = current {
            current = nil
            inFlight.timeout?.cancel()
            inFlight.request.promise.fail(error)
        }
        let waiting = queue
        queue = []
        for (request, timeout) in waiting {
            timeout?.cancel()
            request.promise.fail(error)
        }
    }

    /// `TLSUserEvent.handshakeCompleted` from NIOSSL. The enum lives in NIOTLS, which is not among
    /// this target's declared dependencies (and Package.swift is not ours to change), so it is
    /// recognised by its type name and case label rather than by a cast.
    static func isHandshakeCompleted(_ event: Any) -> Bool {
        String(reflecting: type(of: event)) == "NIOTLS.TLSUserEvent"
            && Mirror(reflecting: event).children.first?.label == "handshakeCompleted"
    }

    static func map(_ error: any Error, truncated: Bool) -> HTTPClientError {
        switch error {
        case let error as HTTPClientError:
            return error
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            return .tls(String(describing: error))
        case let error as HTTPParserError:
            if truncated, error == .invalidEOFState {
                return .protocolError("the connection closed before the end of the response body")
            }
            return error == .invalidEOFState ? .closed : .protocolError(String(describing: error))
        case is IOError, is ChannelError:
            return .closed
        default:
            return .protocolError(String(describing: error))
        }
    }

    static func handshakeError(_ error: any Error) -> HTTPClientError {
        switch map(error, truncated: false) {
        case .tls(let message): .tls(message)
        case .timeout: .timeout
        default: .tls("TLS handshake: \(error)")
        }
    }
}
