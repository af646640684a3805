import Foundation
import KofuJSON
import Replica
import Testing

/// Large batches are decoded on several threads; what they answer must not depend on it.
@Suite struct BatchDecodeTests {
    func upserts(_ n: Int, breaking broken: [Int: (String, JSONValue)] = [:]) -> [UInt8] {
        Feed.batch((0..<n).map { i in
            var fields: [String: JSONValue] = ["juminhyoCode": .string(String(format: "%011d", i + 1)), "householdId": .string("H\(i / 4)")]
            if let (key, value) = broken[i] { fields[key] = value }
            return Feed.upsert(i + 1, Feed.resident(fields))
        })
    }

    @Test func aLargeBatchDecodesInOrder() throws {
        let batch = try SyncBatch.decode(upserts(3000))
        #expect(batch.events.map(\.seq) == (1...3000).map(Int64.init))
        #expect(batch.events.map(\.change.juminhyoCode) == (1...3000).map { String(format: "%011d", $0) })
    }

    @Test(arguments: [[2999], [1500, 2999], [7, 1500, 2999], [0, 1]])
    func theFirstFaultIsTheOneReported(_ positions: [Int]) {
        var broken: [Int: (String, JSONValue)] = [:]
        for p in positions { broken[p] = ("birthDate", .string("2019-02-29")) }
        broken[positions.last! ] = ("sex", .string("M"))  // a different fault further on
        let first = positions.min()!
        #expect {
            try SyncBatch.decode(upserts(3000, breaking: broken))
        } throws: { error in
            guard let e = error as? InvalidEvent else { return false }
            let field = positions.count == 1 ? "resident.sex" : "resident.birthDate"
            return e.index == first && e.seq == Int64(first + 1) && e.field == field
        }
    }
}
