import Foundation
import KofuTesting
import Testing

/// Issue 8 item 3, the parts best seen from outside the process: a gzip bomb given to
/// `kofu reseed`, with the child's peak resident memory measured (docs/limits.md).
@Suite struct ResourceLimitCLITests {
    static let kofu = CLITests.kofu

    /// Runs `arguments` in a child of python3, whose RUSAGE_CHILDREN then holds exactly that
    /// child's peak resident set: (exit status, stdout, stderr, peak RSS in KiB).
    static func measured(_ arguments: [String]) throws -> (status: Int, stdout: String, stderr: String, peakKiB: Int) {
        let script = """
            import json, resource, subprocess, sys
            r = subprocess.run(sys.argv[1:], capture_output=True)
            print(json.dumps({"status": r.returncode, "stdout": r.stdout.decode("utf-8", "replace"),
                              "stderr": r.stderr.decode("utf-8", "replace"),
                              "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
            """
        let r = try Tools.run("python3", ["-c", script] + arguments)
        guard let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let status = object["status"] as? Int, let peak = object["peak"] as? Int else {
            throw HostileTestError("python3 wrapper: \(r.stdout) \(r.stderr)")
        }
        return (status, object["stdout"] as? String ?? "", object["stderr"] as? String ?? "", peak)
    }

    /// A gzip extract of `mebibytes` MiB after `prefix`: 1 MiB of `fill` deflated once with a full
    /// flush (byte-aligned, self-contained blocks) and repeated, so a file of a few MB inflates to
    /// gigabytes without anyone compressing gigabytes. The gzip trailer is not valid: a reader
    /// that got that far has already failed the test.
    static func bomb(prefix: String, fill: String, mebibytes: Int, to path: String) throws {
        let script = """
            import sys, zlib
            path, prefix, fill, n = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), int(sys.argv[4])
            head = zlib.compressobj(9, zlib.DEFLATED, -15)
            first = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
            body = zlib.compressobj(9, zlib.DEFLATED, -15)
            chunk = body.compress(fill * ((1 << 20) // len(fill))) + body.flush(zlib.Z_FULL_FLUSH)
            with open(path, "wb") as f:
                f.write(b"\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00\\x00\\x03" + first)
                for _ in range(n):
                    f.write(chunk)
                f.write(b"\\x03\\x00" + b"\\x00" * 8)
            """
        let r = try Tools.run("python3", ["-c", script, path, prefix, fill, String(mebibytes)])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test(arguments: [
        // One line of 2 GiB: refused at the line limit (4 MiB) with its line number.
        ("x", 2, "line 2", "longer than 4 MiB"),
        // 2 GiB of LF: the first blank line is refused.
        ("\n", 2, "line 2", "blank line"),
        // 2 GiB of a JSON value that never closes: still one line.
        ("[", 2, "line 2", "longer than 4 MiB"),
    ])
    func aGzipBombIsRefusedWithBoundedMemory(fill: String, gibibytes: Int, line: String, message: String) throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.kofu), "build kofu first (scripts/test.sh does)")
        let folder = NSTemporaryDirectory() + "kofu-bomb-\(UUID().uuidString)"
        let config = try ReplicaOnlyConfig.write(in: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bomb.jsonl.gz"
        let header = #"{"format":"kofu-extract/1","municipality":"272078","asOfSeq":1,"createdAt":"2026-11-22T03:00:00+09:00"}"# + "\n"
        try Self.bomb(prefix: header, fill: fill, mebibytes: gibibytes * 1024, to: path)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size < 8 << 20, "the bomb should be a few MB, is \(size) bytes")

        let r = try Self.measured([Self.kofu, "reseed", "--config", config, "--extract", path, "--dry-run"])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        let output = r.stdout + r.stderr
        #expect(output.contains(line) && output.contains(message), "\(output)")
        // Bounded memory: far below what buffering the inflated text would take (2 GiB). The
        // figure is the debug build's whole process, libraries included (docs/limits.md).
        #expect(r.peakKiB < 200 * 1024, "peak RSS \(r.peakKiB) KiB")
        print("gzip bomb (\(fill.debugDescription) × \(gibibytes) GiB, \(size) bytes): kofu reseed --dry-run peak RSS \(r.peakKiB) KiB")
    }
}

struct HostileTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
