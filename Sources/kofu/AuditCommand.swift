import ArgumentParser
import Foundation
import Issuance
import KofuConfiguration
import Replica

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The issuance audit log.",
        subcommands: [AuditVerify.self])
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log end to end: every record chains to the one before it, none is edited, none missing.",
        discussion: """
            Exits 0 and prints the number of records when the log is intact; exits 1 naming the first bad \
            record by its 交付番号 otherwise (an edited record, a gap where one was removed, records missing \
            at the end).
            """)

    @Option(help: "The configuration file (TOML).")
    var config: String

    func run() throws {
        let settings = Self.loadConfiguration(config)
        let result: AuditLog.Verification
        switch settings.replica {
        case .sqlite: result = AuditLog.verify(folder: settings.audit.path)
        case .postgres(let url):
            // Several servers append one chain in the database.
            do {
                result = SharedIssuanceRecords.verify(try PostgresIssuanceState(url: url))
            } catch {
                Self.fail("\(ReplicaStores.describe(settings.replica)): \(error)")
            }
        }
        if let fault = result.fault { Self.fail("audit log: \(fault)") }
        print("audit log intact: \(result.records) records")
    }
}
