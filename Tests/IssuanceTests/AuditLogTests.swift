import Foundation
import KofuJSON
import Testing

@testable import Issuance

struct AuditLogTests {
    static func folder() throws -> String {
        let f = NSTemporaryDirectory() + "kofu-audit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }

    static func record(_ id: String) -> JSONObject {
        JSONObject([("type", .string("issuance")), ("issuanceId", .string(id)), ("copies", .number(JSONNumber(1)))])!
    }

    static func lines(_ folder: String) throws -> [String] {
        try String(contentsOfFile: folder + "/" + AuditLog.logName, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func write(_ lines: [String], _ folder: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/" + AuditLog.logName, atomically: true, encoding: .utf8)
    }

    static func filled() throws -> String {
        let f = try folder()
        let log = try AuditLog(folder: f)
        try log.append([record("AAAAAAAAAAAAAAA1"), record("AAAAAAAAAAAAAAA2")])
        try log.append([record("AAAAAAAAAAAAAAA3")])
        try log.append([record("AAAAAAAAAAAAAAA4"), record("AAAAAAAAAAAAAAA5")])
        return f
    }

    @Test func anIntactLogVerifiesAndSurvivesReopening() throws {
        let f = try Self.filled()
        #expect(AuditLog.verify(folder: f) == AuditLog.Verification(records: 5, fault: nil))
        let reopened = try AuditLog(folder: f)
        try reopened.append([Self.record("AAAAAAAAAAAAAAA6")])
        #expect(AuditLog.verify(folder: f) == AuditLog.Verification(records: 6, fault: nil))
        #expect(AuditLog.verify(folder: try Self.folder()).fault == nil)  // no log yet: nothing to fault
    }

    @Test func aLogOpenedButNeverWrittenVerifies() throws {
        // What a server leaves that started and issued nothing: an empty audit.log, no head.
        let f = try Self.folder()
        _ = try AuditLog(folder: f)
        #expect(FileManager.default.fileExists(atPath: f + "/" + AuditLog.logName))
        #expect(AuditLog.verify(folder: f) == AuditLog.Verification(records: 0, fault: nil))
        // An empty log under a head that names records is still records missing at the end.
        let filled = try Self.filled()
        try Data().write(to: URL(fileURLWithPath: filled + "/" + AuditLog.logName))
        let fault = try #require(AuditLog.verify(folder: filled).fault)
        #expect(fault.contains("missing at the end"), "\(fault)")
    }

    @Test func anEditedRecordIsNamedByItsIssuanceId() throws {
        let f = try Self.filled()
        var lines = try Self.lines(f)
        lines[2] = lines[2].replacingOccurrences(of: "\"copies\":1", with: "\"copies\":2")
        try Self.write(lines, f)
        let fault = try #require(AuditLog.verify(folder: f).fault)
        #expect(fault.contains("AAAAAAAAAAAAAAA3") && fault.contains("edited"))
    }

    @Test func aRemovedRecordBreaksTheChain() throws {
        let f = try Self.filled()
        var lines = try Self.lines(f)
        lines.remove(at: 1)
        try Self.write(lines, f)
        let fault = try #require(AuditLog.verify(folder: f).fault)
        #expect(fault.contains("AAAAAAAAAAAAAAA3"))
    }

    @Test func aRecordRemovedAtTheEndIsFound() throws {
        let f = try Self.filled()
        let lines = try Self.lines(f)
        try Self.write(Array(lines.dropLast()), f)
        let fault = try #require(AuditLog.verify(folder: f).fault)
        #expect(fault.contains("AAAAAAAAAAAAAAA5") && fault.contains("missing"))
    }

    @Test func aRehashedEditIsCaughtByTheNextRecord() throws {
        let f = try Self.filled()
        var lines = try Self.lines(f)
        // Edit record 2 and recompute its own hash: record 3's prev no longer matches.
        let edited = lines[1].replacingOccurrences(of: "AAAAAAAAAAAAAAA2", with: "BBBBBBBBBBBBBBB2")
        let prefix = String(edited.dropLast(75))
        lines[1] = prefix + ",\"hash\":\"" + KofuDigestHex.hex(SHA256Bytes.of(prefix)) + "\"}"
        try Self.write(lines, f)
        let fault = try #require(AuditLog.verify(folder: f).fault)
        #expect(fault.contains("AAAAAAAAAAAAAAA3"))
    }

    @Test func aTornLastLineIsCutOnOpen() throws {
        let f = try Self.filled()
        let handle = try #require(FileHandle(forWritingAtPath: f + "/" + AuditLog.logName))
        handle.seekToEndOfFile()
        handle.write(Data("{\"seq\":6,\"prev\":".utf8))
        try handle.close()
        #expect(AuditLog.verify(folder: f).fault != nil)
        let log = try AuditLog(folder: f)  // a crash mid-append: the torn record was never acknowledged
        try log.append([Self.record("AAAAAAAAAAAAAAA6")])
        #expect(AuditLog.verify(folder: f) == AuditLog.Verification(records: 6, fault: nil))
    }
}
