import Foundation
import Issuance
import KofuJSON

/// The one table that maps refusal codes to HTTP statuses and problem documents (RFC 9457) for
/// both listeners. Titles and kiosk messages are fixed texts: a problem never carries personal
/// data, and never tells an unauthenticated caller whether a resident exists.
public enum ProblemCatalogue {
    public struct Entry: Sendable {
        public let status: Int
        public let title: String
        public let kioskMessage: String
    }

    static let counter = "お取り扱いできません。市役所の窓口にお問い合わせください。"
    static let retry = "ただいまお取り扱いできません。しばらくしてから再度お試しください。"
    static let hours = "ただいまの時間はお取り扱いできません。"

    public static let entries: [String: Entry] = [
        "MALFORMED_REQUEST": Entry(status: 400, title: "The request is malformed", kioskMessage: retry),
        "WRONG_MUNICIPALITY": Entry(status: 400, title: "This municipality is not served here", kioskMessage: counter),
        "SIGNATURE_INVALID": Entry(status: 401, title: "The card signature does not verify", kioskMessage: counter),
        "CARD_CERT_UNTRUSTED": Entry(status: 401, title: "The card certificate is not trusted", kioskMessage: counter),
        "CARD_CERT_EXPIRED": Entry(status: 401, title: "The card certificate is outside its validity", kioskMessage: counter),
        "CARD_CERT_REVOKED": Entry(status: 401, title: "The card certificate is revoked", kioskMessage: counter),
        "REVOCATION_UNAVAILABLE": Entry(status: 401, title: "No valid revocation list is available", kioskMessage: retry),
        "CARD_NOT_REGISTERED": Entry(status: 401, title: "The card is not registered here", kioskMessage: counter),
        "REQUEST_EXPIRED": Entry(status: 401, title: "The request is outside the freshness window", kioskMessage: retry),
        "REQUESTER_NOT_CURRENT": Entry(status: 403, title: "The requester is not a current resident", kioskMessage: counter),
        "NOT_SAME_HOUSEHOLD": Entry(status: 403, title: "A subject is not in the requester's household", kioskMessage: counter),
        "SELF_ONLY": Entry(status: 403, title: "This certificate is issued to the requester only", kioskMessage: counter),
        "ISSUANCE_RESTRICTED": Entry(status: 403, title: "Issuance is restricted", kioskMessage: counter),
        "REQUESTER_UNDER_AGE": Entry(status: 403, title: "The requester is under the minimum age", kioskMessage: counter),
        "REQUEST_REPLAYED": Entry(status: 409, title: "The requestId was used for another request", kioskMessage: retry),
        "OUTCOME_CONFLICT": Entry(status: 409, title: "A different outcome is already recorded", kioskMessage: counter),
        "ISSUANCE_NOT_FOUND": Entry(status: 404, title: "No such issuance", kioskMessage: counter),
        "NOT_FOUND": Entry(status: 404, title: "No such resource on this listener", kioskMessage: counter),
        "METHOD_NOT_ALLOWED": Entry(status: 405, title: "Method not allowed on this resource", kioskMessage: counter),
        "PAYLOAD_TOO_LARGE": Entry(status: 413, title: "The request body is too large", kioskMessage: counter),
        "UNSUPPORTED_MEDIA_TYPE": Entry(status: 415, title: "Unsupported media type", kioskMessage: counter),
        "OPTION_NOT_ALLOWED": Entry(status: 422, title: "An option that is not allowed was requested", kioskMessage: counter),
        "SEAL_NOT_REGISTERED": Entry(status: 422, title: "No active seal registration", kioskMessage: counter),
        "GAIJI_UNRENDERABLE": Entry(status: 422, title: "A character cannot be printed", kioskMessage: counter),
        "OUTSIDE_SERVICE_HOURS": Entry(status: 503, title: "Outside the service hours", kioskMessage: hours),
        "SERVICE_SUSPENDED": Entry(status: 503, title: "Issuance is suspended", kioskMessage: retry),
        "INTERNAL_ERROR": Entry(status: 500, title: "Internal error", kioskMessage: counter),
        // The sync listener's own codes (sync-feed.md).
        "SEQUENCE_GAP": Entry(status: 409, title: "The batch does not continue the feed", kioskMessage: counter),
        "INVALID_EVENT": Entry(status: 422, title: "The batch holds an invalid event", kioskMessage: counter),
        "SERVICE_UNAVAILABLE": Entry(status: 503, title: "Not ready", kioskMessage: retry),
    ]

    public static func entry(_ code: String) -> Entry { entries[code] ?? entries["INTERNAL_ERROR"]! }
}

/// An RFC 9457 problem document with center-api.md's six members, plus extension members.
public struct Problem: Sendable {
    public let code: String
    public let requestId: String
    public var extra: [(key: String, value: JSONValue)] = []

    public init(code: String, requestId: String? = nil, extra: [(key: String, value: JSONValue)] = []) {
        self.code = code
        self.requestId = requestId ?? UUID().uuidString.lowercased()
        self.extra = extra
    }

    public var status: Int { ProblemCatalogue.entry(code).status }

    public var json: [UInt8] {
        let entry = ProblemCatalogue.entry(code)
        let members: [(key: String, value: JSONValue)] = [
            ("type", .string("urn:kofu:problem:" + code.lowercased().replacingOccurrences(of: "_", with: "-"))),
            ("title", .string(entry.title)), ("status", .number(JSONNumber(entry.status))), ("code", .string(code)),
            ("kioskMessage", .string(entry.kioskMessage)), ("requestId", .string(requestId)),
        ] + extra
        return serialize(.object(JSONObject(members)!))
    }
}
