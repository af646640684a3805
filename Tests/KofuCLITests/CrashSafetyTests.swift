import Foundation
import KofuTesting
import Replica
import Testing

/// Real `kofu sync apply` and `kofu reseed` processes killed with SIGKILL at random points:
/// afterwards the store opens, holds every acknowledged batch and nothing half-applied, and a
/// killed reseed leaves either the old replica or the new one, whole, never a mix and never a
/// `.building` file served. Leftovers of a killed reseed (its `.building` file, or the old store
/// when it died between the switch and the deletion) are deleted by the next open or reseed.
@Suite(.serialized) struct CrashSafetyTests {
    let folder: String
    var config: String { folder + "/kofu.toml" }
    var replica: String { folder + "/replica" }

    init() throws {
        folder = NSTemporaryDirectory() + "kofu-crash-\(UUID().uuidString)"
        try ReplicaOnlyConfig.write(in: folder)
    }

    struct Outcome {
        let exitedZero: Bool
        let stdout: String
        let elapsed: Double
    }

    /// Runs kofu and, unless it has finished by then, kills it with SIGKILL after `killAfter` s.
    func run(_ args: [String], killAfter: Double?) throws -> Outcome {
        #expect(FileManager.default.isExecutableFile(atPath: CLITests.kofu), "build kofu first (scripts/test.sh does)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.kofu)
        process.arguments = args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let start = Date()
        try process.run()
        if let killAfter {
            let deadline = Date().addingTimeInterval(killAfter)
            while process.isRunning && Date() < deadline { usleep(1000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let zero = process.terminationReason == .exit && process.terminationStatus == 0
        return Outcome(exitedZero: zero, stdout: String(decoding: data, as: UTF8.self), elapsed: Date().timeIntervalSince(start))
    }

    /// A batch of `count` new residents from `first` on (large enough that a kill often lands
    /// inside its transaction).
    func batch(first: Int, count: Int) throws -> String {
        var events: [String] = []
        for seq in first..<(first + count) {
            let code = String(50_000_000_000 + seq)
            events.append("""
                {"seq":\(seq),"type":"resident.upsert","resident":{"juminhyoCode":"\(code)","householdId":"H\(seq)","householdOrder":1,\
                "householdHeadName":"葛\u{E0102}城　太郎","name":"葛\u{E0102}城　太郎","nameKana":"カツラギ　タロウ","birthDate":"1958-03-14",\
                "sex":"男","relationship":"世帯主","address":"大阪府架空市桃園町","becameResidentOn":"1958-03-14","addressSetOn":"1990-04-01",\
                "addressNotifiedOn":"1990-04-02","version":1}}
                """)
        }
        let path = folder + "/batch-\(first).json"
        try Data(("{\"events\":[" + events.joined(separator: ",") + "]}").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func killedSyncApplyLosesNothingAcknowledgedAndShowsNothingHalfApplied() throws {
        var rng = SystemRandomNumberGenerator()
        let size = 600
        var acknowledged = 0  // lastSeq of the last acknowledged batch
        var kills = 0
        var attempts = 0
        var seen: [Double] = []
        var committedUnacknowledged = 0
        while kills < 25 && attempts < 60 {
            attempts += 1
            let first = acknowledged + 1
            let path = try batch(first: first, count: size)
            // Kill anywhere from process start to a little past a typical run's end.
            let typical = seen.isEmpty ? 0.3 : seen.sorted()[seen.count / 2]
            let delay = Double.random(in: 0...(typical * 1.2), using: &rng)
            let outcome = try run(["sync", "apply", "--config", config, path], killAfter: delay)
            if outcome.exitedZero {
                #expect(outcome.stdout.contains("\"lastSeq\":\(first + size - 1)"), "\(outcome.stdout)")
                seen.append(outcome.elapsed)
            } else {
                kills += 1
            }
            let store = try SQLiteReplica(folder: replica)
            let last = Int(try store.lastSeq())
            let status = try store.status()
            if outcome.exitedZero {
                #expect(last == first + size - 1)
            } else {
                // Killed: committed whole (just not acknowledged) or not at all.
                #expect(last == acknowledged || last == first + size - 1, "lastSeq \(last) after a kill at \(delay) s")
            }
            #expect(status.residents == last, "residents \(status.residents), lastSeq \(last): a batch is all or nothing")
            if !outcome.exitedZero && last > acknowledged {
                // The upstream resends what was not acknowledged: harmless.
                let resent = try run(["sync", "apply", "--config", config, path], killAfter: nil)
                #expect(resent.exitedZero && resent.stdout.contains("\"skipped\":\(size)"))
                committedUnacknowledged += 1
            }
            acknowledged = last
        }
        #expect(kills >= 10, "too few kills landed (\(kills) of \(attempts))")
        print("crash safety, sync apply: \(attempts) runs, \(kills) killed (\(committedUnacknowledged) after the commit), typical run \(seen.sorted().dropFirst(seen.count / 2).first ?? 0) s")
    }

    @Test func killedReseedLeavesTheOldReplicaOrTheNewOneWhole() throws {
        var rng = SystemRandomNumberGenerator()
        // Two extracts of different sizes and seqs: whichever is served must be served whole.
        let extracts = [(seed: UInt64(11), residents: 700, asOfSeq: Int64(100)), (seed: 12, residents: 1100, asOfSeq: 200)]
        var paths: [String] = []
        var expected: [Int64: Int] = [:]
        for e in extracts {
            let path = folder + "/extract-\(e.asOfSeq).jsonl.gz"
            let counts = try MunicipalityGenerator(seed: e.seed, residents: e.residents).writeExtract(to: path, asOfSeq: e.asOfSeq, gzip: true)
            paths.append(path)
            expected[e.asOfSeq] = counts.residents
        }
        let initial = try run(["reseed", "--config", config, "--extract", paths[0]], killAfter: nil)
        #expect(initial.exitedZero)
        var typical = initial.elapsed
        var served: Int64 = 100
        var kills = 0
        var attempts = 0
        while kills < 25 && attempts < 50 {
            attempts += 1
            let target = served == 100 ? 1 : 0
            let delay = Double.random(in: 0...(typical * 1.6), using: &rng)
            let outcome = try run(["reseed", "--config", config, "--extract", paths[target]], killAfter: delay)
            if outcome.exitedZero { typical = outcome.elapsed } else { kills += 1 }

            // What a server would see now: `current` names a complete store, old or new.
            let current = try FileManager.default.destinationOfSymbolicLink(atPath: replica + "/current")
            #expect(!current.hasSuffix(".building"))
            let store = try SQLiteReplica(folder: replica)
            let status = try store.status()
            #expect(status.lastSeq == 100 || status.lastSeq == 200)
            #expect(status.residents == expected[status.lastSeq], "lastSeq \(status.lastSeq) with \(status.residents) residents: a mix")
            if outcome.exitedZero { #expect(status.lastSeq == extracts[target].asOfSeq) }
            served = status.lastSeq
            // Opening cleaned up what a killed reseed left: only the live store's files remain.
            let live = URL(fileURLWithPath: current).lastPathComponent
            let stores = try FileManager.default.contentsOfDirectory(atPath: replica).filter { $0.hasPrefix("replica-") }
            #expect(stores.allSatisfy { $0.hasPrefix(live) && !$0.hasSuffix(".building") }, "\(stores)")
        }
        #expect(kills >= 10, "too few kills landed (\(kills) of \(attempts))")
        print("crash safety, reseed: \(attempts) runs, \(kills) killed, typical run \(typical) s")
    }
}
