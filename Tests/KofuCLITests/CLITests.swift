import Foundation
import KofuTesting
import Testing

/// The `kofu` executable as operators run it: exit codes and outputs of operations.md.
@Suite struct CLITests {
    static let root = Demo.repositoryRoot()!
    static let kofu = root + "/.build/debug/kofu"

    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "kofu-cli-\(UUID().uuidString)"
        try ReplicaOnlyConfig.write(in: folder)
    }

    func run(_ args: [String]) throws -> Tools.Result {
        #expect(FileManager.default.isExecutableFile(atPath: Self.kofu), "build kofu first (scripts/test.sh does)")
        return try Tools.run(Self.kofu, args)
    }

    func batch(_ seq: Int, birth: String = "1958-03-14") throws -> String {
        let path = folder + "/batch-\(seq)-\(birth).json"
        try Data("""
            {"events":[{"seq":\(seq),"type":"resident.upsert","resident":{"juminhyoCode":"12345678901","householdId":"H1",
            "householdOrder":1,"householdHeadName":"高槻　太郎","name":"高槻　太郎","nameKana":"タカツキ　タロウ",
            "birthDate":"\(birth)","sex":"男","relationship":"世帯主","address":"大阪府高槻市","becameResidentOn":"1958-03-14",
            "addressSetOn":"1990-04-01","addressNotifiedOn":"1990-04-02","version":1}}]}
            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func syncApplyAnswersLikeTheSyncListener() throws {
        let config = folder + "/kofu.toml"
        var r = try run(["sync", "apply", "--config", config, try batch(1)])
        #expect(r.status == 0 && r.stdout == "{\"applied\":1,\"skipped\":0,\"lastSeq\":1}\n")
        r = try run(["sync", "apply", "--config", config, try batch(1)])
        #expect(r.status == 0 && r.stdout.contains("\"skipped\":1"))
        r = try run(["sync", "apply", "--config", config, try batch(3)])
        #expect(r.status == 1 && r.stdout.contains("\"code\":\"SEQUENCE_GAP\"") && r.stdout.contains("\"expected\":2"))
        r = try run(["sync", "apply", "--config", config, try batch(2, birth: "1958-02-30")])
        #expect(r.status == 1 && r.stdout.contains("\"field\":\"resident.birthDate\"") && r.stdout.contains("\"index\":0"))
        #expect(!r.stdout.contains("高槻"))  // a refusal names the field, never the value
        r = try run(["sync", "apply", "--config", config, folder + "/missing.json"])
        #expect(r.status == 1)
        r = try run(["sync", "apply", "--config", config])
        #expect(r.status == 2)  // usage: the batch file is required
    }

    /// `kofu suspend` / `kofu resume` in SQLite mode: the file `kofu serve` follows, in [replica] path.
    @Test func suspendAndResumeSetTheReplicaFoldersSwitch() throws {
        let config = folder + "/kofu.toml"
        let file = folder + "/replica/SUSPENDED"
        var r = try run(["suspend", "--config", config])
        #expect(r.status == 1 && r.stderr.contains("cannot create"), "\(r.stderr)")  // no replica folder yet
        #expect(try run(["sync", "apply", "--config", config, try batch(1)]).status == 0)
        r = try run(["suspend", "--config", config, "--status"])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance running"))
        r = try run(["suspend", "--config", config])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance suspended") && FileManager.default.fileExists(atPath: file), "\(r.stdout)")
        r = try run(["suspend", "--config", config])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance suspended"))
        r = try run(["suspend", "--config", config, "--status"])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance suspended") && FileManager.default.fileExists(atPath: file))
        r = try run(["resume", "--config", config])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance running") && !FileManager.default.fileExists(atPath: file), "\(r.stdout)")
        #expect(try run(["resume", "--config", config]).status == 0)
        #expect(try run(["resume"]).status == 2)
        #expect(try run(["suspend", "--config", folder + "/missing.toml"]).status == 1)
    }

    @Test func configCheckNamesTheKey() throws {
        var r = try run(["config", "check", "--config", folder + "/kofu.toml"])
        #expect(r.status == 0)
        let text = try String(contentsOfFile: folder + "/kofu.toml", encoding: .utf8).replacingOccurrences(of: "127.0.0.1:8443", with: "0.0.0.0:8443")
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/public.toml"))
        r = try run(["config", "check", "--config", folder + "/public.toml"])
        #expect(r.status == 1 && r.stderr.contains("listen.center"))
        r = try run(["config", "check", "--config", folder + "/absent.toml"])
        #expect(r.status == 1)
        #expect(try run(["no-such-command"]).status == 2)
        #expect(try run(["--help"]).status == 0)
    }
}

extension CLITests {
    @Test func reseedValidatesSwitchesAndReports() throws {
        let config = folder + "/kofu.toml"
        _ = try run(["sync", "apply", "--config", config, try batch(1)])
        let header = #"{"format":"kofu-extract/1","municipality":"272078","asOfSeq":77,"createdAt":"2026-11-22T03:00:00+09:00"}"#
        let resident = #"{"type":"resident","juminhyoCode":"22222222222","householdId":"H2","householdOrder":1,"householdHeadName":"見本　花子","name":"見本　花子","nameKana":"ミホン　ハナコ","birthDate":"1970-01-01","sex":"女","relationship":"世帯主","address":"大阪府高槻市","becameResidentOn":"1970-01-01","addressSetOn":"1990-04-01","addressNotifiedOn":"1990-04-02","version":1}"#
        let body = Array((header + "\n" + resident + "\n").utf8)
        let sha = try Tools.run("/usr/bin/python3", ["-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())",
                                                     header + "\n" + resident + "\n"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let trailer = #"{"type":"end","counts":{"resident":1,"seal":0,"card":0,"restriction":0},"sha256":"\#(sha)"}"#
        let path = folder + "/extract.jsonl"
        try Data(body + Array((trailer + "\n").utf8)).write(to: URL(fileURLWithPath: path))

        var r = try run(["reseed", "--config", config, "--extract", path, "--dry-run"])
        #expect(r.status == 0 && r.stdout.contains("1 residents") && r.stdout.contains("dry run"), "\(r.stderr)")
        r = try run(["reseed", "--config", config, "--extract", path])
        #expect(r.status == 0 && r.stdout.contains("not in the new replica: 1 residents"), "\(r.stderr)")
        #expect(!r.stdout.contains("見本") && !r.stdout.contains("高槻　太郎"))  // numbers only
        // The feed now continues from 78.
        r = try run(["sync", "apply", "--config", config, try batch(2)])
        #expect(r.status == 0 && r.stdout.contains("\"skipped\":1") && r.stdout.contains("\"lastSeq\":77"))
        // A corrupt extract is refused naming its line; nothing changes.
        try Data(body + Array(trailer.replacingOccurrences(of: sha, with: String(repeating: "0", count: 64)).utf8)).write(to: URL(fileURLWithPath: path))
        r = try run(["reseed", "--config", config, "--extract", path])
        #expect(r.status == 1 && r.stderr.contains("line 3") && r.stderr.contains("sha256"))
        #expect(try run(["reseed", "--config", config, "--extract", folder + "/none.jsonl"]).status == 1)
    }
}
