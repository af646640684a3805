import Foundation
import KofuTesting
import Testing
@testable import Typesetting

/// The fonts of every test: real IPAmj明朝 and the project's demo 外字 font, opened once.
enum Fonts {
    static let root = Demo.repositoryRoot()!
    static let stack = try! Demo.fontStack(root: root)
}

@Suite struct ShapingTests {
    let stack = Fonts.stack

    func glyphs(_ text: String) throws -> [UInt32] { try stack.shape(text).glyphs.map(\.glyph) }

    @Test func variationSequencesSelectTheRegisteredGlyph() throws {
        // IPAmj's cmap format 14 (jp-names.json): 葛+E0102 → mj022335 (23477); 葛 and 葛+E0103 → mj022336.
        #expect(try glyphs("葛\u{E0102}") == [23477])
        #expect(try glyphs("葛") == [23478])
        #expect(try glyphs("葛\u{E0103}") == [23478])
        #expect(try glyphs("辻\u{E0102}") == [26795])
        let be = try (0x108...0x112).map { try glyphs("邊" + String(Unicode.Scalar(0xE0000 + $0)!)) }
        #expect(Set(be.map { $0[0] }).count == 11)
    }

    @Test func glyphsKeepTheirExactCharacters() throws {
        let shaped = try stack.shape("葛\u{E0102}\u{FA10}")
        #expect(shaped.glyphs.map { Array($0.text) } == [["葛", "\u{E0102}"], ["\u{FA10}"]])
        // U+FA10 and U+585A are different characters with different glyphs: never merged.
        #expect(try glyphs("\u{FA10}") == [31033])
        #expect(try glyphs("\u{FA10}") != glyphs("\u{585A}"))
    }

    @Test(arguments: [
        ("葛\u{E0100}", ["U+845B", "U+E0100"]),  // Adobe-Japan1 only: HarfBuzz would print plain 葛
        ("辻\u{E0104}", ["U+8FBB", "U+E0104"]),
        ("邊\u{E01EF}", ["U+908A", "U+E01EF"]),
        ("\u{2F800}", ["U+2F800"]),  // HarfBuzz would draw 丽 U+4E3D's glyph
        ("田中\u{200B}太郎", ["U+200B"]),
        ("\u{E0102}", ["U+E0102"]),  // a selector without base
        ("葛\u{E0102}\u{E0103}", ["U+E0103"]),
        ("\u{E0FF}", ["U+E0FF"]),  // PUA the 外字 font does not map
        ("\u{F0000}", ["U+F0000"]),
    ])
    func undrawableTextIsRefusedWithItsCodePoints(text: String, expected: [String]) {
        do {
            let shaped = try stack.shape(text)
            Issue.record("shaped to \(shaped.glyphs.map(\.glyph)) instead of refusing")
        } catch {
            #expect(error.code == .unrenderable)
            #expect(error.codePoints.map(\.uPlus) == expected)
        }
    }

    @Test func privateUseComesFromTheGaijiFontOnly() throws {
        let shaped = try stack.shape("山\u{E000}")
        #expect(shaped.glyphs.map(\.font) == [0, 1])
        #expect(shaped.glyphs[1].glyph != 0)
        // IPAmj maps a few PUA code points itself; certificates.md forbids drawing them from it.
        let ipamjPUA = (0xE000...0xF8FF).compactMap(Unicode.Scalar.init).filter { stack.base.nominalGlyph($0) != nil }
        for scalar in ipamjPUA where stack.fonts[1].nominalGlyph(scalar) == nil {
            #expect(throws: TypesettingError.self) { try stack.shape(String(scalar)) }
        }
    }

    /// Every entry of the shared Japanese names corpus: drawn with the registered glyphs, or
    /// refused naming a code point the corpus says IPAmj lacks (or a selector it does not register).
    @Test func japaneseNamesCorpus() throws {
        let url = URL(fileURLWithPath: Tools.shared + "/testdata/jp-names.json")
        let entries = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        #expect(entries.count == 117)
        var drawn = 0, refused = 0
        for entry in entries {
            let text = entry["text"] as! String
            let kind = entry["kind"] as! String
            let ipamj = entry["ipamj"] as! [String: Any]
            let uncovered = Set(ipamj["uncovered"] as? [String] ?? [])
            let gaiji = Set(text.unicodeScalars.filter { stack.fonts[1].nominalGlyph($0) != nil && $0.isPrivateUse }.map(\.uPlus))
            let mustRefuse = !uncovered.subtracting(gaiji).isEmpty || ["ivs-unregistered", "stray-selector"].contains(kind)
                || text.unicodeScalars.contains { $0.properties.generalCategory == .control }
            do {
                let shaped = try stack.shape(text)
                drawn += 1
                #expect(!mustRefuse, "\(kind) \(entry["codepoints"]!) was drawn: \(entry["note"]!)")
                // Extraction text = the stored characters, scalar for scalar.
                #expect(shaped.glyphs.flatMap { Array($0.text) } == Array(text.unicodeScalars))
                for sequence in ipamj["sequences"] as? [[String: Any]] ?? [] where sequence["registered"] as? Bool == true {
                    let ids = (sequence["sequence"] as! String).split(separator: " ").map { UInt32($0.dropFirst(2), radix: 16)! }
                    let glyph = (sequence["glyph"] as! [String: Any])["id"] as! Int
                    #expect(shaped.glyphs.contains { Array($0.text.map(\.value)) == ids && $0.glyph == UInt32(glyph) })
                }
            } catch {
                refused += 1
                #expect(mustRefuse, "\(kind) \(entry["codepoints"]!) refused: \(error)")
                #expect(error.code == .unrenderable)
            }
        }
        #expect(drawn > 60 && refused > 30)
    }

    @Test func shapingIsAPureFunction() throws {
        let a = try stack.shape("葛\u{E0102}城　\u{E000}子 WANG Xiaoming")
        let b = try stack.shape("葛\u{E0102}城　\u{E000}子 WANG Xiaoming")
        #expect(a == b)
    }
}

@Suite struct TextFitTests {
    @Test func longTextWrapsOrShrinksAndNeverExceedsItsBox() throws {
        let text = try Fonts.stack.shape(String(repeating: "鬱", count: 160))
        let fitted = try TextFitter.fit(text, width: 450, height: 14, nominal: 9, minimum: 5)
        #expect(fitted.size >= 5 && fitted.size <= 9)
        for index in fitted.lines.indices { #expect(fitted.width(ofLine: index) <= 450 + 1e-6) }
        #expect(Double(fitted.lines.count - 1) * fitted.lineHeight + fitted.size <= 14 + 1e-6)
        #expect(fitted.lines.map(\.count).reduce(0, +) == 160)  // nothing cut
    }

    @Test func textThatCannotFitIsAnErrorNotAnOverflow() throws {
        let text = try Fonts.stack.shape(String(repeating: "鬱", count: 400))
        #expect(throws: TypesettingError.self) { try TextFitter.fit(text, width: 100, height: 10, nominal: 9, minimum: 5) }
    }

    @Test func latinBreaksAtSpacesAndKinsokuHolds() throws {
        let text = try Fonts.stack.shape("ALEXANDRA KATHARINA MONTGOMERY-WORTHINGTON")
        let fitted = try TextFitter.fit(text, width: 200, height: 40, nominal: 10, minimum: 10)
        #expect(fitted.lines.count > 1)
        for line in fitted.lines.dropFirst() {
            #expect(text.glyphs[line.lowerBound - 1].isSpace)  // each break follows a space
        }
        let japanese = try Fonts.stack.shape("あいうえおかきくけこ。さしすせそ")
        let wrapped = TextFitter.wrap(japanese, width: 10, maxLines: 5)!
        for line in wrapped.dropFirst() { #expect(!japanese.glyphs[line.lowerBound].noLineStart) }
    }
}
