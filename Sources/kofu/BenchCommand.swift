import ArgumentParser
import Certificates
import Foundation
import KofuTesting
import Typesetting

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (one thread).",
        subcommands: [BenchRender.self])
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
