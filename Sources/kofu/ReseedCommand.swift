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
        let settings: KofuConfig
        do { settings = try KofuConfig.load(path: config) } catch { Self.fail("\(config): \(error)") }
        guard case .sqlite(let folder) = settings.replica else {
            Self.fail("replica.url: the PostgreSQL replica is not available yet; use replica.path")
        }
        let started = Date()
        let validated: Extract
        do {
            validated = try Extract.validate(file: extract, municipality: settings.municipality.code)
        } catch {
            Self.fail("\(extract): \(error)")
        }
        let terminal = isatty(2) != 0
        do {
            let store = try SQLiteReplica(folder: folder)
            let summary: ReseedSummary
            if dryRun {
                summary = try store.summary(of: validated)
            } else {
                summary = try store.reseed(validated, at: Date()) { done, total in
                    guard terminal else { return }
                    let elapsed = Date().timeIntervalSince(started)
                    let rate = Double(done) / max(elapsed, 0.001)
                    let left = Double(total - done) / max(rate, 1)
                    FileHandleStderr.write(String(format: "\rkofu reseed: %d / %d records, %.0f records/s, %.0f s left   ", done, total, rate, left))
                }
                if terminal { FileHandleStderr.write("\n") }
            }
            print("""
                kofu reseed\(dryRun ? " (dry run, nothing switched)" : ""): \(summary.residents) residents, \(summary.seals) seals, \
                \(summary.cards) cards, \(summary.restrictions) restrictions loaded; last seq \(summary.lastSeq)
                kofu reseed: not in the new replica: \(summary.droppedResidents) residents, \(summary.droppedSeals) seals, \
                \(summary.droppedCards) cards, \(summary.droppedRestrictions) restrictions\(dryRun ? " (would be removed)" : " (physically deleted)")
                """)
        } catch {
            Self.fail("\(error)")
        }
    }
}
