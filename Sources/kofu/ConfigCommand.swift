import ArgumentParser
import KofuConfiguration

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Configuration file commands.",
        subcommands: [ConfigCheck.self])
}

struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read and validate a configuration file the way `kofu serve` does at start.",
        discussion: "Exit 0 and a one-line summary when valid; exit 1 naming the key (and line) or file otherwise.")

    @Option(help: "The configuration file (TOML).")
    var config: String

    func run() throws {
        do {
            let c = try KofuConfig.load(path: config)
            let mode = c.tls == nil ? "plain HTTP on loopback (development)" : "TLS"
            print("kofu: \(c.file) is valid: \(c.municipality.name) (\(c.municipality.code)), center \(c.listen.center), sync \(c.listen.sync), \(mode)")
        } catch {
            Self.fail("\(config): \(error)")
        }
    }
}
