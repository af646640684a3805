import Foundation
import KofuJSON

/// One event of the change feed.
public enum FeedChange: Sendable, Equatable {
    case residentUpsert(Resident)
    case residentDelete(juminhyoCode: String, reason: String, effectiveOn: String)
    case sealRegister(Seal)
    case sealAbolish(juminhyoCode: String)
    case cardBind(CardBinding)
    case cardUnbind(CardBinding)
    case restrictionSet(Restriction)
    case restrictionClear(Restriction)

    /// Where the event names its resident, as an InvalidEvent field path (for "no such resident").
    public var juminhyoCodeField: String {
        switch self {
        case .sealRegister: "seal.juminhyoCode"
        case .cardBind, .cardUnbind: "card.juminhyoCode"
        case .restrictionSet, .restrictionClear: "restriction.juminhyoCode"
        case .residentUpsert: "resident.juminhyoCode"
        case .residentDelete, .sealAbolish: "juminhyoCode"
        }
    }

    /// The resident the event is about.
    public var juminhyoCode: String {
        switch self {
        case .residentUpsert(let r): r.juminhyoCode
        case .residentDelete(let code, _, _), .sealAbolish(let code): code
        case .sealRegister(let s): s.juminhyoCode
        case .cardBind(let c), .cardUnbind(let c): c.juminhyoCode
        case .restrictionSet(let r), .restrictionClear(let r): r.juminhyoCode
        }
    }
}

public struct FeedEvent: Decodable, Sendable, Equatable {
    public let seq: Int64
    public let change: FeedChange

    enum Keys: String, CodingKey { case seq, type, resident, juminhyoCode, reason, effectiveOn, seal, card, restriction }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        seq = try Checked.positive(c, .seq)
        switch try c.decode(String.self, forKey: .type) {
        case "resident.upsert": change = .residentUpsert(try c.decode(Resident.self, forKey: .resident))
        case "resident.delete":
            change = .residentDelete(juminhyoCode: try Checked.juminhyoCode(c, .juminhyoCode),
                                     reason: try Checked.text(c, .reason, .other), effectiveOn: try Checked.date(c, .effectiveOn))
        case "seal.register": change = .sealRegister(try c.decode(Seal.self, forKey: .seal))
        case "seal.abolish": change = .sealAbolish(juminhyoCode: try Checked.juminhyoCode(c, .juminhyoCode))
        case "card.bind": change = .cardBind(try c.decode(CardBinding.self, forKey: .card))
        case "card.unbind": change = .cardUnbind(try c.decode(CardBinding.self, forKey: .card))
        case "restriction.set": change = .restrictionSet(try c.decode(Restriction.self, forKey: .restriction))
        case "restriction.clear": change = .restrictionClear(try c.decode(Restriction.self, forKey: .restriction))
        default: throw JSONDecodeError.invalidValue("unknown event type", forKey: .type, in: c)
        }
    }
}

/// Why a batch is refused as a whole (422 INVALID_EVENT on the sync listener): the event's
/// 0-based `index`, its `seq` where it could be read, and the `field` as a dotted path inside
/// the event (`resident.birthDate`). Nothing of a refused batch is applied.
public struct InvalidEvent: Error, Equatable, CustomStringConvertible, Sendable {
    public let index: Int?
    public let seq: Int64?
    public let field: String
    public let message: String
    /// More events than one batch may hold (413 PAYLOAD_TOO_LARGE, after parsing).
    public let tooLarge: Bool

    /// With no `index`, the batch itself is malformed (not JSON, not `{"events": […]}`): 400
    /// MALFORMED_REQUEST rather than 422 INVALID_EVENT.
    public var isMalformedBatch: Bool { index == nil && !tooLarge }

    public init(index: Int?, seq: Int64?, field: String, message: String, tooLarge: Bool = false) {
        self.index = index
        self.seq = seq
        self.field = field
        self.message = message
        self.tooLarge = tooLarge
    }

    public var description: String {
        "INVALID_EVENT" + (index.map { " at index \($0)" } ?? "") + (seq.map { " (seq \($0))" } ?? "") + ": \(field): \(message)"
    }
}

/// A decoded, fully validated batch of `POST /v1/sync/batches` or `kofu sync apply`.
public struct SyncBatch: Sendable, Equatable {
    public static let maxEvents = 10_000
    public let events: [FeedEvent]

    /// Validates every event in full; `seq` must increase by exactly 1 inside the batch.
    /// Whether the batch follows the replica's last seq, and whether events name known
    /// residents, is the store's check when it applies the batch.
    public static func decode(_ bytes: [UInt8]) throws(InvalidEvent) -> SyncBatch {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            // A string whose content breaks the text rules (a lone surrogate escape, a raw control
            // character) inside an event is that event's invalid field, not a malformed batch: the
            // structure around it is sound. Its seq cannot be read from a document that did not
            // parse, so it is null.
            if error.code == .loneSurrogate || error.code == .controlCharacter,
               error.path.count >= 3, error.path[0] == "events", let index = Int(error.path[1]) {
                throw InvalidEvent(index: index, seq: nil, field: error.path.dropFirst(2).joined(separator: "."),
                                   message: error.code == .loneSurrogate ? "contains a lone surrogate escape"
                                                                         : "contains an unescaped control character")
            }
            throw InvalidEvent(index: nil, seq: nil, field: "", message: "bad JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw InvalidEvent(index: nil, seq: nil, field: "", message: "the batch is not a JSON object")
        }
        if let extra = object.keys.first(where: { $0 != "events" }) {
            throw InvalidEvent(index: nil, seq: nil, field: extra, message: "unknown member")
        }
        guard case .array(let items)? = object["events"] else {
            throw InvalidEvent(index: nil, seq: nil, field: "events", message: "required array missing")
        }
        guard items.count <= maxEvents else {
            throw InvalidEvent(index: nil, seq: nil, field: "events", message: "more than \(maxEvents) events", tooLarge: true)
        }
        // Events are decoded independently, so a large batch is decoded on every core; faults
        // are then looked at in event order, so the one reported is the first, as before.
        let decoded = decodeAll(items)
        var events: [FeedEvent] = []
        events.reserveCapacity(items.count)
        for (index, result) in decoded.enumerated() {
            switch result {
            case .success(let event): events.append(event)
            case .failure(let error):
                var seq: Int64?
                if case .object(let o) = items[index], case .number(let n)? = o["seq"] { seq = n.int64 }
                throw InvalidEvent(index: index, seq: seq, field: error.path, message: error.message)
            }
            if index > 0, events[index].seq != events[index - 1].seq + 1 {
                throw InvalidEvent(index: index, seq: events[index].seq, field: "seq",
                                   message: "expected \(events[index - 1].seq + 1): seq increases by exactly 1")
            }
        }
        return SyncBatch(events: events)
    }

    static func decodeAll(_ items: [JSONValue]) -> [Result<FeedEvent, JSONDecodeError>] {
        @Sendable func one(_ item: JSONValue) -> Result<FeedEvent, JSONDecodeError> {
            do throws(JSONDecodeError) { return .success(try StrictJSONDecoder().decode(FeedEvent.self, from: item)) } catch { return .failure(error) }
        }
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, items.count / 256)
        guard workers > 1 else { return items.map(one) }
        let results = UnsafeMutableBufferPointer<Result<FeedEvent, JSONDecodeError>?>.allocate(capacity: items.count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        nonisolated(unsafe) let shared = results
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < items.count {
                shared[i] = one(items[i])
                i += workers
            }
        }
        return results.map { $0! }
    }
}
