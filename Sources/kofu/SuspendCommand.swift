import ArgumentParser
import Foundation
import KofuConfiguration
import KofuServer
import Replica

/// The operators' switch of SERVICE_SUSPENDED, in the place `kofu serve` follows for this
/// configuration: `<[replica] path>/SUSPENDED` for one server, a row of the database with
/// `[replica] url` (every server on it at once). Servers follow it within a second or two.
enum SuspensionSwitch {
    static func open(_ config: KofuConfig) -> KofuServer.Suspension {
        do {
            return try KofuServer.Suspension(config.replica)
        } catch {
            Suspend.fail("\(ReplicaStores.describe(config.replica)): \(error)")
        }
    }

    static func describe(_ s: KofuServer.Suspension) -> String {
        switch s {
        case .file(let path): return "the server of \(path)"
        case .database: return "every server on this database"
        }
    }

    static func set(_ config: KofuConfig, on: Bool) {
        let s = open(config)
        do {
            switch s {
            case .file(let path):
                if on {
                    if !FileManager.default.fileExists(atPath: path) {
                        guard FileManager.default.createFile(atPath: path, contents: Data("suspended by kofu suspend\n".utf8)) else {
                            Suspend.fail("cannot create \(path)")
                        }
                    }
                } else if FileManager.default.fileExists(atPath: path) {
                    do { try FileManager.default.removeItem(atPath: path) } catch { Suspend.fail("cannot remove \(path): \(error)") }
                }
            case .database(let state):
                let since = ISO8601DateFormatter().string(from: Date())
                try state.setSuspended(since: on ? since : nil)
            }
            print(try status(s))
        } catch {
            Suspend.fail("\(ReplicaStores.describe(config.replica)): \(error)")
        }
    }

    static func status(_ s: KofuServer.Suspension) throws(StoreError) -> String {
        switch s {
        case .file(let path):
            return FileManager.default.fileExists(atPath: path)
                ? "issuance suspended (\(path) exists): card requests get 503 SERVICE_SUSPENDED"
                : "issuance running (no \(path))"
        case .database(let state):
            if let since = try state.suspendedSince() {
                return "issuance suspended since \(since) on every server of this database: card requests get 503 SERVICE_SUSPENDED"
            }
            return "issuance running on every server of this database"
        }
    }
}

struct Suspend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Suspend issuance: card requests get 503 SERVICE_SUSPENDED until `kofu resume`.",
        discussion: """
            Sets the switch that `kofu serve` follows (within a second or two): the file SUSPENDED in \
            [replica] path, or with [replica] url a row of the database, which suspends every server on \
            it. The card's signature and the replay rules are still checked first; readiness and the \
            sync feed are unaffected. Setting it again keeps it set. --status only prints the state.
            """)

    @Option(help: "The configuration file (TOML).")
    var config: String

    @Flag(help: "Print whether issuance is suspended; change nothing.")
    var status = false

    func run() throws {
        let settings = Self.loadConfiguration(config)
        if status {
            do {
                print(try SuspensionSwitch.status(SuspensionSwitch.open(settings)))
            } catch {
                Self.fail("\(ReplicaStores.describe(settings.replica)): \(error)")
            }
            return
        }
        SuspensionSwitch.set(settings, on: true)
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume issuance after `kofu suspend`.",
        discussion: "Clears the switch of `kofu suspend` (the file, or the database's row for every server on it).")

    @Option(help: "The configuration file (TOML).")
    var config: String

    func run() throws {
        SuspensionSwitch.set(Self.loadConfiguration(config), on: false)
    }
}
