import ArgumentParser
import Certificates
import Foundation
import KofuTesting
import Replica
import Typesetting

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (one thread).",
        subcommands: [BenchRender.self, BenchGenerate.self, BenchSync.self, BenchLookup.self, BenchPipeline.self])
}

struct BenchRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Certificates rendered per second on one thread, and bytes per PDF.",
        discussion: "Renders each case repeatedly on the calling thread for --seconds and prints a Markdown table.")

    @Option(help: "Seconds per case.")
    var seconds: Double = 5

    @Option(help: "Repository root holding Templates/ and Fonts/ (found automatically in a checkout).")
    var root: String?

    func run() throws {
        guard let root = locateRoot(root) else { Self.fail("cannot find Templates/ and Fonts/; pass --root") }
        let renderer = try KofuTesting.Demo.renderer(root: root)
        renderer.warmUp()
        let household = KofuTesting.Demo.largeHousehold(4)
        let seal = try KofuTesting.Demo.personalSeal()
        let officialSealBytes = PDFImageSize.compressed(try KofuTesting.Demo.officialSeal(), level: 9)
        let impressionBytes = PDFImageSize.compressed(seal, level: 1)
        let cases: [(String, Int, () throws -> RenderedCertificate)] = [
            ("住民票 1 person", officialSealBytes, { try renderer.render(KofuTesting.Demo.juminhyo([household[0]], householdSize: 4)) }),
            ("住民票 4 persons", officialSealBytes, { try renderer.render(KofuTesting.Demo.juminhyo(household)) }),
            ("印鑑登録証明書", officialSealBytes + impressionBytes, { try renderer.render(KofuTesting.Demo.inkan(household[0], seal: seal)) }),
        ]
        print("| case | pages/s (1 thread) | ms/page | PDF bytes | of which images | bytes besides images |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for (name, imageBytes, render) in cases {
            _ = try render()  // warm-up
            var pages = 0
            var bytes = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                let certificate = try render()
                pages += certificate.pageCount
                bytes = certificate.pdf.count
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds
            let rate = Double(pages) / elapsed
            print("| \(name) | \(Int(rate.rounded())) | \(String(format: "%.3f", 1000 / rate)) | \(bytes) | \(imageBytes) | \(bytes - imageBytes) |")
        }
    }
}

/// The bytes an image stream (and its soft mask) occupies inside our PDFs, for subtracting the
/// seal images from the per-certificate size as the budget says.
enum PDFImageSize {
    static func compressed(_ png: [UInt8], level: Int32) -> Int {
        guard let image = try? PDFImage(pngData: png, compression: level) else { return 0 }
        return image.streamBytes
    }
}

/// Nanoseconds since boot (monotonic).
func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a generated municipality's reseed extract and the sync batches that follow it.",
        discussion: """
            Deterministic from --seed. The extract (JSON Lines, gzip with --gzip) holds --residents residents in \
            households of 1–12 with seals, card bindings and restrictions; --batches files of --events-per-batch \
            events each (seq from --as-of-seq + 1) go to --batch-dir, valid against the replica that extract builds.
            """)

    @Option(help: "Residents in the extract.") var residents: Int = 10_000
    @Option(help: "The extract file to write.") var out: String
    @Flag(help: "gzip-compress the extract.") var gzip = false
    @Option(help: "Seed of the generator.") var seed: UInt64 = 1
    @Option(help: "The extract's asOfSeq.") var asOfSeq: Int64 = 1000
    @Option(help: "The municipality code in the header.") var municipality = "272078"
    @Option(help: "Number of batch files to write after the extract.") var batches = 0
    @Option(help: "Events per batch file.") var eventsPerBatch = 1000
    @Option(help: "Folder for the batch files (batch-000001.json …).") var batchDir: String?

    func run() throws {
        let start = monotonicNanos()
        let generator = MunicipalityGenerator(seed: seed, residents: residents, municipality: municipality)
        let counts = try generator.writeExtract(to: out, asOfSeq: asOfSeq, gzip: gzip)
        let seconds = Double(monotonicNanos() - start) / 1e9
        print("""
            bench generate: \(counts.residents) residents in \(generator.households) households, \(counts.seals) seals, \
            \(counts.cards) cards, \(counts.restrictions) restrictions; \(counts.bytes) bytes of text; \(String(format: "%.1f", seconds)) s
            """)
        if batches > 0 {
            let dir = batchDir ?? (out + ".batches")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var seq = asOfSeq + 1
            for i in 0..<batches {
                let batch = generator.batches(startingAt: seq, count: 1, eventsPerBatch: eventsPerBatch)[0]
                try Data(batch).write(to: URL(fileURLWithPath: dir + String(format: "/batch-%06d.json", i + 1)))
                seq += Int64(eventsPerBatch)
            }
            print("bench generate: \(batches) batches of \(eventsPerBatch) events (seq \(asOfSeq + 1)–\(seq - 1)) in \(dir)")
        }
    }
}

/// The replica a benchmark runs on: a folder (SQLite) or a PostgreSQL URL, as `[replica]` names them.
struct BenchReplica: ParsableArguments {
    @Option(help: "The replica folder ([replica] path).") var replica: String?
    @Option(help: ArgumentHelp("The PostgreSQL replica ([replica] url) instead of a folder.", valueName: "postgres-url"))
    var replicaUrl: String?

    func validate() throws {
        guard (replica == nil) != (replicaUrl == nil) else { throw ValidationError("give one of --replica and --replica-url") }
    }

    func open(readPoolSize: Int = 8) throws -> any ReplicaStore {
        if let replicaUrl { return try PostgresReplica(url: replicaUrl, readPoolSize: readPoolSize) }
        return try SQLiteReplica(folder: replica!, readPoolSize: readPoolSize)
    }
}

struct BenchSync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Apply batch files to a replica (folder or PostgreSQL) in order and report events per second.",
        discussion: "Decoding (validation) and applying (one durable transaction per batch, and the background checkpoint still running at the end) are timed separately.")

    @OptionGroup var target: BenchReplica
    @Option(help: "Folder of batch files, applied in name order.") var batchDir: String

    func run() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: batchDir).filter { $0.hasSuffix(".json") }.sorted()
        let store = try target.open()
        var decodeNanos: UInt64 = 0, applyNanos: UInt64 = 0, events = 0
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: batchDir + "/" + name)))
            let t0 = monotonicNanos()
            let batch = try SyncBatch.decode(bytes)
            let t1 = monotonicNanos()
            let result = try store.apply(batch, at: Date())
            let t2 = monotonicNanos()
            decodeNanos += t1 - t0
            applyNanos += t2 - t1
            events += result.applied
        }
        // A checkpoint still running in the background is part of the work of applying.
        let t3 = monotonicNanos()
        (store as? SQLiteReplica)?.waitForCheckpoint()
        applyNanos += monotonicNanos() - t3
        let apply = Double(applyNanos) / 1e9, decode = Double(decodeNanos) / 1e9
        print("| batches | events applied | apply s | apply events/s | decode s | decode+apply events/s |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        print("| \(names.count) | \(events) | \(String(format: "%.2f", apply)) | \(Int(Double(events) / apply)) | \(String(format: "%.2f", decode)) | \(Int(Double(events) / (apply + decode))) |")
    }
}

struct BenchLookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Household lookups (current members in order) on a replica (folder or PostgreSQL): latency percentiles.",
        discussion: """
            Three ways: one `read { $0.currentMembers(household:) }` per lookup with the read-connection pool, the same \
            without the pool (a new connection per read, as before the pool), and many lookups inside one open snapshot.
            """)

    @OptionGroup var target: BenchReplica
    @Option(help: "Lookups per case.") var count = 20_000
    @Option(help: "Seed for the household choice.") var seed: UInt64 = 7

    func run() throws {
        let pooled = try target.open()
        let unpooled = try target.open(readPoolSize: 0)
        let households = max(1, try pooled.status().households)
        var state = seed
        func nextHousehold() -> String {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return "H" + String(format: "%010d", Int((state >> 33) % UInt64(households)) + 1)
        }
        func percentiles(_ nanos: [UInt64]) -> (Double, Double, Double) {
            let s = nanos.sorted()
            func at(_ q: Double) -> Double { Double(s[min(s.count - 1, Int(Double(s.count) * q))]) / 1000 }
            return (at(0.5), at(0.9), at(0.99))
        }
        var members = 0
        func measure(_ body: (String) throws -> Int) rethrows -> [UInt64] {
            for _ in 0..<min(1000, count) { _ = try body(nextHousehold()) }  // warm-up
            var out: [UInt64] = []
            out.reserveCapacity(count)
            for _ in 0..<count {
                let h = nextHousehold()
                let t0 = monotonicNanos()
                members += try body(h)
                out.append(monotonicNanos() - t0)
            }
            return out
        }
        let cases: [(String, [UInt64])] = [
            ("read { currentMembers } per lookup, pooled connections", try measure { h in try pooled.read { try $0.currentMembers(household: h).count } }),
            ("read { currentMembers } per lookup, new connection each (no pool)", try measure { h in try unpooled.read { try $0.currentMembers(household: h).count } }),
            ("currentMembers inside one open snapshot", try pooled.read { snapshot in try measure { h in try snapshot.currentMembers(household: h).count } }),
        ]
        print("\(households) households; \(count) lookups per case; \(members) members read")
        print("| case | median µs | p90 µs | p99 µs |")
        print("| --- | ---: | ---: | ---: |")
        for (name, nanos) in cases {
            let (p50, p90, p99) = percentiles(nanos)
            print("| \(name) | \(String(format: "%.1f", p50)) | \(String(format: "%.1f", p90)) | \(String(format: "%.1f", p99)) |")
        }
    }
}
