import ArgumentParser
import Certificates
import Foundation
import KofuTesting
import Typesetting

struct Demo: ParsableCommand {
    private func render(_ name: String, renderer: CertificateRenderer, household: [Person]) throws -> RenderedCertificate {
        switch name {
        case "juminhyo-household.pdf":
            return try renderer.render(KofuTesting.Demo.juminhyo(
                household, options: JuminhyoOptions(domicile: true, relationship: true, foreignResidentItems: true)))
        case "juminhyo-self.pdf":
            return try renderer.render(KofuTesting.Demo.juminhyo([household[0]], householdSize: household.count))
        case "juminhyo-12-persons.pdf":
            return try renderer.render(KofuTesting.Demo.juminhyo(KofuTesting.Demo.largeHousehold(12)))
        default:
            return try renderer.render(KofuTesting.Demo.inkan(household[0], seal: try KofuTesting.Demo.personalSeal()))
        }
    }

    static let configuration = CommandConfiguration(
        abstract: "Build the demo municipality and write sample certificates as PDFs.",
        discussion: """
            Renders, for the fictional 架空市, a 住民票の写し of the whole demo household (IVS, 外字 and \
            compatibility-ideograph names, a 外国人住民), one of a single person, one of a twelve-person \
            household (3 pages) and an 印鑑登録証明書, into a working folder under the current folder, \
            and prints each PDF's absolute path on a line of its own.
            (Until the server lands, the demo renders directly instead of through the HTTP API.)
            """)

    @Option(help: "Working folder for the demo (created if missing).")
    var output: String = "kofu-demo"

    @Option(help: "Repository root holding Templates/ and Fonts/ (found automatically in a checkout).")
    var root: String?

    func run() throws {
        guard let root = locateRoot(root) else { Self.fail("cannot find Templates/ and Fonts/; pass --root") }
        let folder = URL(fileURLWithPath: output, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            Self.fail("cannot create \(folder.path): \(error)")
        }
        print("kofu demo: working folder \(folder.path)")
        let renderer: CertificateRenderer
        do {
            renderer = try KofuTesting.Demo.renderer(root: root)
        } catch {
            Self.fail("cannot set up the demo municipality: \(error)")
        }
        let household = KofuTesting.Demo.household()
        for name in ["juminhyo-household.pdf", "juminhyo-self.pdf", "juminhyo-12-persons.pdf", "inkan.pdf"] {
            do {
                let certificate = try render(name, renderer: renderer, household: household)
                let url = folder.appendingPathComponent(name)
                try Data(certificate.pdf).write(to: url)
                print(url.path)
            } catch {
                Self.fail("\(name): \(error)")
            }
        }
        // An unrenderable character refuses the certificate: show the operator's view of it.
        var stray = household[0]
        stray.name = "葛\u{E0100}城　太郎"
        do {
            var content = KofuTesting.Demo.juminhyo([stray], householdSize: household.count)
            content.householdHeadName = household[1].name
            _ = try renderer.render(content)
            Self.fail("an unregistered variation sequence was rendered")
        } catch {
            print("kofu demo: refused as expected: \(error.code.rawValue) \(error.codePointsText) in \(error.field ?? "?")")
        }
    }
}
