import Certificates
import Foundation
import KofuTesting
import Testing
import Typesetting

/// One renderer for the suite: real templates, real IPAmj, the demo 外字 font and seals.
enum Fixture {
    static let root = Demo.repositoryRoot()!
    static let renderer = try! Demo.renderer(root: root)
    static let household = Demo.household()
    static let personalSeal = try! Demo.personalSeal()
    static let all = JuminhyoOptions(domicile: true, relationship: true, foreignResidentItems: true)

    static func file(_ certificate: RenderedCertificate) throws -> String { try Tools.temporaryFile(certificate.pdf) }

    struct Inspection: Decodable {
        struct Font: Decodable {
            struct CID: Decodable { let cid: Int; let text: [String]; let gid: Int; let outline: String }
            let baseFont: String
            let descendant: String
            let glyphCount: Int
            let cids: [CID]
        }
        struct Placement: Decodable { let page: Int; let name: String; let widthPt: Double; let heightPt: Double }
        let pages: Int
        let fonts: [Font]
        let images: [Placement]
    }

    static func inspect(_ path: String) throws -> Inspection {
        let result = try Tools.run("/usr/bin/python3", [root + "/Tests/Support/pdf_inspect.py", path])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Inspection.self, from: Data(result.stdout.utf8))
    }

    static func outlines(font: String, glyphs: [Int]) throws -> [String: String] {
        let result = try Tools.run("/usr/bin/python3", [root + "/Tests/Support/pdf_inspect.py", "--outline", font] + glyphs.map(String.init))
        return try JSONDecoder().decode([String: String].self, from: Data(result.stdout.utf8))
    }

    static func expectValidPDF(_ path: String) throws {
        let check = try Tools.qpdfCheck(path)
        #expect(check.status == 0, "qpdf --check: \(check.stdout) \(check.stderr)")
        #expect(!check.stdout.contains("WARNING") && !check.stderr.contains("WARNING"))
        #expect(check.stdout.contains("No syntax or stream encoding errors found"))
    }
}

@Suite struct CertificateTests {
    let renderer = Fixture.renderer

    @Test func householdCertificateIsAValidPDFWithEveryValue() throws {
        let cert = try renderer.render(Demo.juminhyo(Fixture.household, options: Fixture.all))
        let path = try Fixture.file(cert)
        try Fixture.expectValidPDF(path)
        #expect(cert.pageCount == 2)  // 5 persons, 4 per page
        let text = try Tools.pdfText(path)
        let plain = Tools.squeezed(String(String.UnicodeScalarView(text.unicodeScalars.filter { !(0xE0100...0xE01EF).contains($0.value) })))
        for expected in ["住民票の写し", "架空市", "K7QX2M9ZR4TB", "1 / 2", "2 / 2", "葛城　太郎", "葛城　\u{E000}子",
                         "大阪府架空市桃園町一丁目2番3号", "グランドメゾン桃園　1203号室", "昭和33年3月14日", "平成元年1月8日",
                         "令和元年5月1日", "1990年7月15日", "通称　王　小明", "旧氏　\u{FA11}山", "中国", "技術・人文知識・国際業務",
                         "この写しは、世帯全員の住民票の原本と相違ないことを証明する。", "令和8年11月22日", "架空市長　見本　太郎", "以下余白"] {
            #expect(plain.contains(Tools.squeezed(expected)), "missing \(expected)")
        }
        // U+FA10 comes back as U+FA10, not as U+585A.
        #expect(text.unicodeScalars.contains("\u{FA10}"))
        #expect(!text.unicodeScalars.contains("\u{585A}"))
        // The IVS name: extraction gives the base character followed by its selector.
        #expect(text.contains("葛\u{E0102}城"))
        #expect(text.contains("\u{FA11}山"))
        // The 外国人住民's 本籍 is never printed; the Japanese members' is (option domicile).
        #expect(plain.contains("大阪府架空市本町一丁目1番地"))
        #expect(!text.contains("住民票コード") && !text.contains("個人番号"))
    }

    @Test func ivsNameEmbedsTheGlyphTheCmap14Maps() throws {
        let cert = try renderer.render(Demo.juminhyo([Fixture.household[0]]))
        let path = try Fixture.file(cert)
        let inspection = try Fixture.inspect(path)
        let cids = inspection.fonts.flatMap(\.cids)
        let variant = try #require(cids.first { $0.text == ["U+845B", "U+E0102"] })
        let ipamj = try Fixture.outlines(font: Demo.baseFontPath, glyphs: [23477, 23478])
        #expect(variant.outline == ipamj["23477"])  // mj022335
        #expect(variant.outline != ipamj["23478"])  // not the plain 葛
    }

    @Test func fontsAreTaggedSubsetsHoldingOnlyDrawnGlyphs() throws {
        let cert = try renderer.render(Demo.juminhyo(Fixture.household, options: Fixture.all))
        let inspection = try Fixture.inspect(try Fixture.file(cert))
        #expect(inspection.fonts.count == 3)  // labels, values, 外字
        for font in inspection.fonts {
            #expect(font.baseFont.range(of: #"^[A-Z]{6}\+"#, options: .regularExpression) != nil)
            #expect(font.descendant == font.baseFont)
            // Every glyph of the subset is drawn (besides .notdef), and no two CIDs of one text.
            #expect(font.glyphCount == Set(font.cids.map(\.gid)).count + 1, "\(font.baseFont)")
        }
        let gaiji = try #require(inspection.fonts.first { $0.baseFont.hasSuffix("KofuDemoGaiji") || $0.cids.contains { $0.text == ["U+E000"] } })
        #expect(gaiji.cids.map(\.text) == [["U+E000"]])
        let pdffonts = try Tools.run("pdffonts", [try Fixture.file(cert)]).stdout
        #expect(pdffonts.components(separatedBy: "CID TrueType").count - 1 == 3)
        #expect(!pdffonts.contains(" no  "))  // every font: emb yes, sub yes, uni yes
    }

    @Test func twelvePersonsMakeThreePagesAndTheLastPageCloses() throws {
        let cert = try renderer.render(Demo.juminhyo(Demo.largeHousehold(12), id: "A1B2C3D4E5F6"))
        let path = try Fixture.file(cert)
        try Fixture.expectValidPDF(path)
        #expect(cert.pageCount == 3)
        #expect(try Fixture.inspect(path).pages == 3)
        for page in 1...3 {
            let text = try Tools.pdfText(path, page: page)
            #expect(text.contains("住民票の写し") && text.contains("A1B2C3D4E5F6") && text.contains("\(page) / 3") && text.contains("架空市"))
            #expect(text.components(separatedBy: "A1B2C3D4E5F6").count == 2)  // once per page
            let isLast = page == 3
            #expect(text.contains("以下余白") == isLast)
            #expect(text.contains("相違ないことを証明する") == isLast)
            #expect(text.contains("令和8年11月22日") == isLast)
        }
        // Four persons per page, in household order.
        let first = try Tools.pdfText(path, page: 1)
        let squeezed = Tools.squeezed(first)
        #expect(squeezed.contains("見本一郎") && squeezed.contains("見本四郎") && !squeezed.contains("見本五郎"))
        #expect(squeezed.range(of: "見本一郎")!.lowerBound < squeezed.range(of: "見本二郎")!.lowerBound)
    }

    @Test(arguments: [
        (1, 1, "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"),  // one person who is the whole household
        (1, 4, "この写しは、住民票の原本と相違ないことを証明する。"),
        (2, 4, "この写しは、世帯の一部の住民票の原本と相違ないことを証明する。"),
        (4, 4, "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"),
    ])
    func attestationFollowsWhoIsPrinted(printed: Int, size: Int, expected: String) throws {
        let persons = Array(Demo.largeHousehold(size).prefix(printed))
        let text = try Tools.pdfText(try Fixture.file(try renderer.render(Demo.juminhyo(persons, householdSize: size))))
        #expect(Tools.squeezed(text).contains(expected))
    }

    @Test func optionsDecideWhatIsOmitted() throws {
        let plain = try Tools.pdfText(try Fixture.file(try renderer.render(Demo.juminhyo(Fixture.household))))
        #expect(plain.contains("省略"))
        #expect(!plain.contains("大阪府架空市本町一丁目1番地"))  // 本籍 without option domicile
        #expect(!plain.contains("技術・人文知識・国際業務"))   // without foreignResidentItems
        #expect(!plain.contains("世帯主　") || true)
        let relationship = try Tools.pdfText(try Fixture.file(try renderer.render(
            Demo.juminhyo(Fixture.household, options: JuminhyoOptions(relationship: true)))))
        #expect(relationship.contains("同居人"))
        #expect(!plain.contains("同居人"))
    }

    @Test func longKatagakiStaysInsideItsCell() throws {
        let url = URL(fileURLWithPath: Tools.shared + "/testdata/jp-names.json")
        let entries = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        let long = entries.filter { $0["kind"] as? String == "long-address" }.map { $0["text"] as! String }
        #expect(long.count == 2)
        for katagaki in long {
            var content = Demo.juminhyo([Fixture.household[0]])
            content.householdKatagaki = katagaki
            let path = try Fixture.file(try renderer.render(content))
            try Fixture.expectValidPDF(path)
            #expect(Tools.squeezed(try Tools.pdfText(path)).contains(Tools.squeezed(katagaki)))
            // Every glyph box of the 方書 row lies inside the cell (x 35–195 mm, y 37–43 mm).
            let bbox = try Tools.run("pdftotext", ["-bbox", "-enc", "UTF-8", path, "-"]).stdout
            let mm = 72 / 25.4
            var rowWords = 0
            for line in bbox.split(separator: "\n") where line.contains("<word") {
                func attr(_ name: String) -> Double {
                    let r = line.range(of: name + "=\"")!
                    return Double(line[r.upperBound...].prefix { $0 != "\"" })!
                }
                let yMid = (attr("yMin") + attr("yMax")) / 2
                guard yMid > 37 * mm && yMid < 43 * mm else { continue }
                rowWords += 1
                #expect(attr("xMin") >= 35 * mm - 0.5 && attr("xMax") <= 195 * mm + 0.5)
                #expect(attr("yMin") >= 37 * mm - 0.5 && attr("yMax") <= 43 * mm + 0.5)
            }
            #expect(rowWords > 0)
        }
    }

    @Test func everyValueAtItsFeedLimitIsPrintedWhole() throws {
        // The widest character at every field's limit (sync-feed.md): names 100, addresses 160, other text 64.
        let name = String(repeating: "鬱", count: 100), address = String(repeating: "鬱", count: 160)
        let other = String(repeating: "鬱", count: 64)
        let d = CivilDate(iso: "2019-05-01")!
        let national = Person(name: name, nameKana: name, formerSurname: name, alias: name, birthDate: d, sex: "女",
                              relationship: other, address: address, katagaki: address, becameResidentOn: d, addressSetOn: d,
                              addressNotifiedOn: d, previousAddress: address, domicile: Domicile(address: address, head: name))
        var foreign = national
        foreign.domicile = nil
        foreign.foreignResident = ForeignResidentItems(nationality: other, category: other, status: other, periodOfStay: other, expiresOn: d)
        var content = Demo.juminhyo([national, foreign], options: Fixture.all)
        content.householdAddress = address
        content.householdKatagaki = address
        content.householdHeadName = name
        let path = try Fixture.file(try renderer.render(content))
        try Fixture.expectValidPDF(path)
        let text = Tools.squeezed(try Tools.pdfText(path))
        #expect(text.components(separatedBy: address).count - 1 == 5)  // household 住所 and 方書, two 従前の住所, one 本籍
        #expect(text.contains(name) && text.contains(other))
        let inkan = try renderer.render(Demo.inkan(national, seal: Fixture.personalSeal))
        try Fixture.expectValidPDF(try Fixture.file(inkan))
    }

    @Test func unrenderableCharactersRefuseTheCertificate() throws {
        for (name, expected) in [("葛\u{E0100}城", "U+845B U+E0100"), ("\u{2A700}田", "U+2A700"), ("山\u{F8FF}", "U+F8FF")] {
            var person = Fixture.household[0]
            person.name = name
            var content = Demo.juminhyo([person])
            content.householdHeadName = "見本　太郎"
            do {
                _ = try renderer.render(content)
                Issue.record("\(expected) was rendered")
            } catch {
                #expect(error.code == .unrenderable)
                #expect(error.codePointsText == expected)
                #expect(error.field == "person.name")
                #expect(!error.description.contains(name))  // the error names where and what, never the value
            }
        }
    }

    @Test func outputIsByteIdenticalAcrossRunsAndRenderers() throws {
        let content = Demo.juminhyo(Fixture.household, options: Fixture.all)
        let a = try renderer.render(content).pdf
        let b = try renderer.render(content).pdf
        let fresh = try Demo.renderer(root: Fixture.root)
        #expect(a == b)
        #expect(a == (try fresh.render(content).pdf))
        let inkan = Demo.inkan(Fixture.household[0], seal: Fixture.personalSeal)
        #expect(try renderer.render(inkan).pdf == fresh.render(inkan).pdf)
    }

    @Test func inkanPrintsTheImpressionAtItsRegisteredSize() throws {
        for size in [8.0, 15.0, 25.0] {
            var content = Demo.inkan(Fixture.household[0], seal: Fixture.personalSeal)
            content.impression.widthMm = size
            content.impression.heightMm = size
            let cert = try renderer.render(content)
            let path = try Fixture.file(cert)
            try Fixture.expectValidPDF(path)
            let text = Tools.squeezed(try Tools.pdfText(path))
            for expected in ["印鑑登録証明書", "葛\u{E0102}城　太郎", "昭和33年3月14日", "大阪府架空市桃園町一丁目2番3号",
                             "この写しは、登録されている印影と相違ないことを証明します。", "令和8年11月22日", "1 / 1", "以下余白"] {
                #expect(text.contains(Tools.squeezed(expected)), "missing \(expected)")
            }
            let placements = try Fixture.inspect(path).images
            let mm = 72 / 25.4
            #expect(placements.count == 2)
            #expect(placements.contains { abs($0.widthPt / mm - size) < 0.1 && abs($0.heightPt / mm - size) < 0.1 })
            #expect(placements.contains { abs($0.widthPt / mm - 21) < 0.1 && abs($0.heightPt / mm - 21) < 0.1 })  // 職印
        }
    }

    @Test func officialSealIsEmbeddedOnceAndOnlyOnTheLastPage() throws {
        let cert = try renderer.render(Demo.juminhyo(Demo.largeHousehold(12)))
        let inspection = try Fixture.inspect(try Fixture.file(cert))
        #expect(inspection.images.map(\.page) == [3])
        let raw = String(decoding: cert.pdf, as: UTF8.self)
        #expect(raw.components(separatedBy: "/Subtype /Image").count - 1 == 2)  // the seal and its soft mask
    }

    @Test func pageGeometryIsA4Portrait() throws {
        let info = try Tools.run("pdfinfo", [try Fixture.file(try renderer.render(Demo.juminhyo([Fixture.household[0]])))]).stdout
        #expect(info.contains("595.276 x 841.89 pts (A4)"))
        let raw = String(decoding: try renderer.render(Demo.juminhyo([Fixture.household[0]])).pdf, as: UTF8.self)
        #expect(!raw.contains("/CropBox") && !raw.contains("/Rotate"))
    }
}
