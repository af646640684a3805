import Foundation
import HTTPTypes
import Hummingbird
import Issuance
import KofuJSON
import NIOCore
import Replica

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
    static let issuanceId = HTTPField.Name("X-Issuance-Id")!
    static let pageCount = HTTPField.Name("X-Page-Count")!
    static let copies = HTTPField.Name("X-Copies")!
    static let contentSHA256 = HTTPField.Name("X-Content-SHA256")!
}

enum Reply {
    static func bytes(_ status: Int, _ contentType: String, _ body: [UInt8], requestId: String,
                      extra: [(HTTPField.Name, String)] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.requestId] = requestId
        for (name, value) in extra { headers[name] = value }
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func problem(_ problem: Problem) -> Response {
        bytes(problem.status, "application/problem+json", problem.json, requestId: problem.requestId)
    }

    static func json(_ body: [UInt8], requestId: String = UUID().uuidString.lowercased()) -> Response {
        bytes(200, "application/json", body, requestId: requestId)
    }
}

/// Counts and times every request, and turns whatever escaped a handler (the router's own 404
/// and 405 included) into a problem document with an X-Request-Id.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics
    let listener: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            let code = switch error.status.code {
            case 404: "NOT_FOUND"
            case 405: "METHOD_NOT_ALLOWED"
            case 413: "PAYLOAD_TOO_LARGE"
            default: "MALFORMED_REQUEST"
            }
            response = Reply.problem(Problem(code: code))
        } catch {
            response = Reply.problem(Problem(code: "INTERNAL_ERROR"))
        }
        if response.headers[.requestId] == nil { response.headers[.requestId] = UUID().uuidString.lowercased() }
        metrics.request(endpoint: Self.endpoint(listener: listener, path: request.uri.path), status: response.status.code,
                        duration: ContinuousClock.now - start)
        return response
    }

    /// A fixed label per route (never a path segment from the caller, which could be anything).
    static func endpoint(listener: String, path: String) -> String {
        switch path {
        case "/v1/eligibility": return "eligibility"
        case "/v1/issuances": return "issuances"
        case "/healthz": return "healthz"
        case "/readyz": return "readyz"
        case "/metrics": return "metrics"
        case "/openapi.json": return "openapi"
        case "/v1/sync/batches": return "sync_batches"
        case "/v1/sync/status": return "sync_status"
        default:
            return path.hasPrefix("/v1/issuances/") && path.hasSuffix("/outcome") ? "outcome" : "other"
        }
    }
}

extension KofuServer {
    static let centerBodyLimit = 64 * 1024

    /// Reads a body up to `limit`; over it (by Content-Length or while streaming) is 413 before
    /// anything is parsed.
    static func body(_ request: Request, limit: Int) async -> [UInt8]? {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { return nil }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            return nil
        }
    }

    /// `application/jose` (or json), case-insensitive, parameters allowed.
    static func hasMediaType(_ request: Request, _ expected: String) -> Bool {
        guard let value = request.headers[.contentType] else { return false }
        let type = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return type.lowercased() == expected
    }

    func centerRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware(metrics: metrics, listener: "center"))
        router.post("/v1/eligibility") { request, _ in
            await self.cardRequest(request) { body in await self.service.eligibility(body) }
        }
        router.post("/v1/issuances") { request, _ in
            await self.cardRequest(request) { body in await self.service.issue(body) }
        }
        router.post("/v1/issuances/:issuanceId/outcome") { request, context in
            guard let body = await Self.body(request, limit: Self.centerBodyLimit) else {
                return Reply.problem(Problem(code: "PAYLOAD_TOO_LARGE"))
            }
            guard Self.hasMediaType(request, "application/json") else {
                return Reply.problem(Problem(code: "UNSUPPORTED_MEDIA_TYPE"))
            }
            let id = context.parameters.get("issuanceId") ?? ""
            return self.reply(await self.service.outcome(issuanceId: id, body: body))
        }
        router.get("/healthz") { _, _ in
            Reply.bytes(200, "text/plain; charset=utf-8", Array("ok\n".utf8), requestId: UUID().uuidString.lowercased())
        }
        router.get("/readyz") { _, _ in
            self.isReady ? Reply.bytes(200, "text/plain; charset=utf-8", Array("ready\n".utf8), requestId: UUID().uuidString.lowercased())
                : Reply.problem(Problem(code: "SERVICE_UNAVAILABLE", extra: [("detail", .string("no currently valid CRL"))]))
        }
        router.get("/metrics") { _, _ in
            let now = Date()
            let status = try? self.replica.status()
            let changed = [status?.lastAppliedAt, status?.reseededAt].compactMap { $0.flatMap(RFC3339.parse) }.max()
            let text = self.metrics.exposition(lastSeq: status?.lastSeq, replicaChangedAt: changed ?? self.started,
                                               crlAges: self.trust.crlAges(at: now), now: now)
            return Reply.bytes(200, "text/plain; version=0.0.4; charset=utf-8", text, requestId: UUID().uuidString.lowercased())
        }
        router.get("/openapi.json") { _, _ in
            Reply.json(Array(OpenAPIDocument.json.utf8))
        }
        return router
    }

    func cardRequest(_ request: Request, _ handle: ([UInt8]) async -> Result<Answer, IssuanceError>) async -> Response {
        guard let body = await Self.body(request, limit: Self.centerBodyLimit) else {
            return Reply.problem(Problem(code: "PAYLOAD_TOO_LARGE"))
        }
        guard Self.hasMediaType(request, "application/jose") else {
            return Reply.problem(Problem(code: "UNSUPPORTED_MEDIA_TYPE"))
        }
        return reply(await handle(body))
    }

    func reply(_ result: Result<Answer, IssuanceError>) -> Response {
        switch result {
        case .success(let answer):
            let requestId = answer.requestId ?? UUID().uuidString.lowercased()
            switch answer.body {
            case .json(let bytes):
                return Reply.bytes(answer.status, "application/json", bytes, requestId: requestId)
            case .pdf(let bytes, let issuanceId, let pageCount, let copies, let sha256):
                if let kind = answer.newIssuance { metrics.issuance(kind: kind.rawValue) }
                return Reply.bytes(answer.status, "application/pdf", bytes, requestId: requestId, extra: [
                    (.issuanceId, issuanceId), (.pageCount, String(pageCount)), (.copies, String(copies)),
                    (.contentSHA256, sha256),
                ])
            }
        case .failure(let error):
            return Reply.problem(Problem(code: error.code.rawValue, requestId: error.requestId))
        }
    }

    func syncRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware(metrics: metrics, listener: "sync"))
        router.post("/v1/sync/batches") { request, _ in
            guard let body = await Self.body(request, limit: SyncFeed.maxBodyBytes) else {
                return Reply.problem(Problem(code: "PAYLOAD_TOO_LARGE"))
            }
            guard Self.hasMediaType(request, "application/json") else {
                return Reply.problem(Problem(code: "UNSUPPORTED_MEDIA_TYPE"))
            }
            let replica = self.replica
            let answer = try await self.pool.runIfActive { SyncFeed.apply(body, to: replica, at: Date()) }
            switch answer {
            case .applied(let result): return Reply.json(SyncFeed.json(result))
            case .refused(let problem): return Reply.problem(problem)
            case .failed(let message):
                self.logger.error("sync batch not applied: \(message)")
                return Reply.problem(Problem(code: "INTERNAL_ERROR"))
            }
        }
        router.get("/v1/sync/status") { _, _ in
            let replica = self.replica
            guard let status = try? await self.pool.runIfActive({ try replica.status() }) else {
                return Reply.problem(Problem(code: "INTERNAL_ERROR"))
            }
            return Reply.json(SyncFeed.json(status))
        }
        return router
    }
}
