import ArgumentParser
import KofuConfiguration
import Foundation
import Replica

struct Reseed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the replica with a full extract (server renewal, サーバー更改).",
        discussion: """
            Validates the whole extract first (header, every record, duplicates, references, counts, checksum) \
            and refuses a faulty one naming the line and field, leaving the live replica untouched. Then builds \
            the new store beside the live one, switches to it atomically (a running server keeps answering; \
            reads in flight finish on the old data) and deletes the old store. The feed continues from the \
            extract's asOfSeq + 1. Prints the counts loaded and how many records the old replica held that \
            the new one does not (numbers only).
            """)

    @Option(help: "The configuration file (TOML).")
    var config: String

    @Option(help: "The extract: JSON Lines, optionally gzip-compressed.")
    var extract: String

    @Flag(help: "Validate and report without switching.")
    var dryRun = false

    func run() throws {
        let settings = Self.loadConfiguration(config)
        let started = Date()
        let terminal = isatty(2) != 0
        let summary: ReseedSummary
        if dryRun {
            // Validation streams the file; only the records' keys are kept, for the summary.
            let scanned: ScannedExtract
            do {
                scanned = try Extract.check(file: extract, municipality: settings.municipality.code)
            } catch {
                Self.fail("\(extract): \(error)")
            }
            do {
                summary = try ReplicaStores.open(settings.replica).summary(of: scanned)
            } catch {
                Self.fail("\(error)")
            }
        } else {
            let store: any ReplicaStore
            do { store = try ReplicaStores.open(settings.replica) } catch { Self.fail("\(ReplicaStores.describe(settings.replica)): \(error)") }
            do {
                summary = try store.reseed(extractFile: extract, municipality: settings.municipality.code, at: Date()) { p in
                    guard terminal else { return }
                    let elapsed = Date().timeIntervalSince(started)
                    let rate = Double(p.records) / max(elapsed, 0.001)
                    let fraction = p.fileSize > 0 ? Double(p.fileBytesRead) / Double(p.fileSize) : 0
                    let left = fraction > 0 ? elapsed / fraction - elapsed : 0
                    FileHandleStderr.write(String(format: "\rkofu reseed: %d records, %.0f records/s, %.0f s left   ", p.records, rate, left))
                }
                if terminal { FileHandleStderr.write("\n") }
            } catch {
                if terminal { FileHandleStderr.write("\n") }
                switch error {
                case .extract(let e): Self.fail("\(extract): \(e)")
                case .store(let e): Self.fail("\(e)")
                }
            }
        }
        print("""
            kofu reseed\(dryRun ? " (dry run, nothing switched)" : ""): \(summary.residents) residents, \(summary.seals) seals, \
            \(summary.cards) cards, \(summary.restrictions) restrictions loaded; last seq \(summary.lastSeq)
            kofu reseed: not in the new replica: \(summary.droppedResidents) residents, \(summary.droppedSeals) seals, \
            \(summary.droppedCards) cards, \(summary.droppedRestrictions) restrictions\(dryRun ? " (would be removed)" : " (physically deleted)")
            """)
    }
}
