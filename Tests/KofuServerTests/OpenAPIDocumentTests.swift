import KofuJSON
import KofuServer
import Testing

@Suite struct OpenAPIDocumentTests {
    private static func document() throws -> JSONObject {
        guard case .object(let root) = try JSONParser.parse(Array(OpenAPIDocument.json.utf8)) else {
            throw DocumentError("the document is not a JSON object")
        }
        return root
    }

    @Test func isOpenAPI31() throws {
        let root = try Self.document()
        #expect(root["openapi"] == .string("3.1.0"))
        guard case .object(let info)? = root["info"] else {
            Issue.record("no info object")
            return
        }
        #expect(info["title"] != nil && info["version"] != nil)
    }

    /// The 9 paths, each with exactly its method, and on the listener that serves it.
    @Test(arguments: [
        ("/v1/eligibility", "post", "center"),
        ("/v1/issuances", "post", "center"),
        ("/v1/issuances/{issuanceId}/outcome", "post", "center"),
        ("/healthz", "get", "center"),
        ("/readyz", "get", "center"),
        ("/metrics", "get", "center"),
        ("/openapi.json", "get", "center"),
        ("/v1/sync/batches", "post", "sync"),
        ("/v1/sync/status", "get", "sync"),
    ])
    func path(_ path: String, method: String, listener: String) throws {
        let root = try Self.document()
        guard case .object(let paths)? = root["paths"] else {
            Issue.record("no paths object")
            return
        }
        #expect(paths.count == 9)
        guard case .object(let item)? = paths[path] else {
            Issue.record("\(path) is missing")
            return
        }
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        #expect(item.keys.filter(methods.contains) == [method])
        guard case .object(let operation)? = item[method] else { return }
        #expect(operation["x-listener"] == .string(listener))
        #expect((item["servers"] != nil) == (listener == "sync"))
        guard case .object(let responses)? = operation["responses"] else {
            Issue.record("\(path) has no responses")
            return
        }
        #expect(!responses.isEmpty)
    }

    /// Every problem code of center-api.md's Errors table and of the sync feed is in the enum.
    @Test func errorCodes() throws {
        let root = try Self.document()
        guard case .object(let components)? = root["components"], case .object(let schemas)? = components["schemas"],
              case .object(let errorCode)? = schemas["ErrorCode"], case .array(let values)? = errorCode["enum"]
        else {
            Issue.record("no ErrorCode enum")
            return
        }
        let codes = values.compactMap { value -> String? in
            if case .string(let code) = value { return code }
            return nil
        }
        for code in [
            "MALFORMED_REQUEST", "WRONG_MUNICIPALITY", "SIGNATURE_INVALID", "CARD_CERT_UNTRUSTED", "CARD_CERT_EXPIRED",
            "CARD_CERT_REVOKED", "REVOCATION_UNAVAILABLE", "CARD_NOT_REGISTERED", "REQUEST_EXPIRED",
            "REQUESTER_NOT_CURRENT", "NOT_SAME_HOUSEHOLD", "SELF_ONLY", "ISSUANCE_RESTRICTED", "REQUESTER_UNDER_AGE",
            "REQUEST_REPLAYED", "OUTCOME_CONFLICT", "ISSUANCE_NOT_FOUND", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE",
            "OPTION_NOT_ALLOWED", "SEAL_NOT_REGISTERED", "GAIJI_UNRENDERABLE", "OUTSIDE_SERVICE_HOURS",
            "SERVICE_SUSPENDED", "SEQUENCE_GAP", "INVALID_EVENT",
        ] + ProblemCatalogue.entries.keys.sorted() {
            #expect(codes.contains(code), "\(code) is missing")
        }
        #expect(Set(codes).count == codes.count)
    }
}

private struct DocumentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
