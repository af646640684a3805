import Foundation
import KofuTesting
import Testing
import Typesetting

@Suite struct GaijiFontTests {
    /// The committed demo 外字 font is exactly what its committed script builds.
    @Test func demoGaijiFontIsReproducible() throws {
        let root = Demo.repositoryRoot()!
        let out = NSTemporaryDirectory() + "kofu-gaiji-\(UUID().uuidString).ttf"
        let result = try Tools.run("/usr/bin/python3", [root + "/Fonts/build-demo-gaiji.py", out])
        #expect(result.status == 0, "\(result.stderr)")
        let built = try Data(contentsOf: URL(fileURLWithPath: out))
        let committed = try Data(contentsOf: URL(fileURLWithPath: root + "/Fonts/kofu-demo-gaiji.ttf"))
        #expect(built == committed)
    }

    @Test func demoGaijiFontMapsItsPrivateUseGlyphs() throws {
        let face = try FontFace(path: Demo.repositoryRoot()! + "/Fonts/kofu-demo-gaiji.ttf")
        let base = try FontFace(path: Demo.baseFontPath)
        #expect(face.unitsPerEm == base.unitsPerEm)
        let glyphs = (0xE000...0xE005).map { face.nominalGlyph(Unicode.Scalar($0)!) }
        #expect(Set(glyphs.compactMap { $0 }).count == 6)
        #expect(face.nominalGlyph("\u{E006}") == nil)
        #expect(face.nominalGlyph("A") == nil)
    }
}
