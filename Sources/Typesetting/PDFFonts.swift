internal import KofuZlib

/// The identity of one drawn glyph inside a font resource: its glyph id and the characters it
/// stands for. Two keys with one glyph (葛 and 葛+U+E0103 share IPAmj's mj022336; U+FA10 and
/// 塚+U+FE00 share one glyph) get two CIDs, so that each extracts as the characters stored.
struct GlyphKey: Hashable {
    let glyph: UInt32
    let base: UInt32
    let selector: UInt32

    init(_ g: ShapedGlyph) {
        glyph = g.glyph
        var it = g.text.makeIterator()
        base = it.next()?.value ?? 0
        selector = it.next()?.value ?? 0
    }
}

/// CID assignment for one font resource, in first-use order (deterministic for a given input).
/// CID 0 is .notdef and never drawn.
struct CIDTable {
    private(set) var cids: [GlyphKey: UInt16] = [:]
    private(set) var keys: [GlyphKey] = []

    mutating func cid(for glyph: ShapedGlyph) -> UInt16 {
        let key = GlyphKey(glyph)
        if let cid = cids[key] { return cid }
        precondition(keys.count < 65_534, "more distinct glyphs than CIDs")
        keys.append(key)
        let cid = UInt16(keys.count)
        cids[key] = cid
        return cid
    }

    func lookup(_ glyph: ShapedGlyph) -> UInt16? { cids[GlyphKey(glyph)] }
    var isEmpty: Bool { keys.isEmpty }
}

/// A Type0/CIDFontType2 font with everything expensive already done (subset, compression):
/// writing it into a document is a few dictionaries and a copy of its streams.
struct EmbeddableFont: Sendable {
    let baseFont: String
    let fontFile: [UInt8]
    let fontFileLength: Int
    let widths: PDFObject
    let toUnicode: [UInt8]
    let cidToGID: [UInt8]
    let descriptor: PDFDict
    /// Glyphs in the subset, .notdef included.
    let subsetGlyphCount: Int

    init(face: FontFace, table: CIDTable, compression: Int32) throws(TypesettingError) {
        let oldGlyphs = Set(table.keys.map(\.glyph)).sorted()
        let subset = try face.subset(glyphs: oldGlyphs)
        subsetGlyphCount = subset.glyphCount
        baseFont = EmbeddableFont.subsetTag(face: face, glyphs: oldGlyphs) + "+" + face.postScriptName
        fontFile = Zlib.deflate(subset.program, level: compression)
        fontFileLength = subset.program.count

        let scale = 1000.0 / Double(face.unitsPerEm)
        var cidToGID = [UInt8](repeating: 0, count: 2 * (table.keys.count + 1))
        var widthRuns: [PDFObject] = []
        var run: [PDFObject] = []
        var runStart = 0
        for (index, key) in table.keys.enumerated() {
            let cid = index + 1
            let gid = subset.newGlyph[key.glyph]!
            cidToGID[2 * cid] = UInt8(gid >> 8)
            cidToGID[2 * cid + 1] = UInt8(gid & 0xFF)
            let width = (Double(face.advance(key.glyph)) * scale * 1000).rounded() / 1000
            if width == 1000 {  // the default width DW
                if !run.isEmpty { widthRuns += [.int(runStart), .array(run)]; run = [] }
            } else {
                if run.isEmpty { runStart = cid }
                run.append(.real(width))
            }
        }
        if !run.isEmpty { widthRuns += [.int(runStart), .array(run)] }
        widths = .array(widthRuns)
        self.cidToGID = Zlib.deflate(cidToGID, level: compression)
        toUnicode = Zlib.deflate(EmbeddableFont.toUnicodeCMap(table), level: compression)

        let bbox = face.boundingBox
        descriptor = PDFDict([
            ("Type", .name("FontDescriptor")),
            ("FontName", .name(baseFont)),
            ("Flags", 4),
            ("FontBBox", [.real(Double(bbox.xMin) * scale), .real(Double(bbox.yMin) * scale),
                          .real(Double(bbox.xMax) * scale), .real(Double(bbox.yMax) * scale)]),
            ("ItalicAngle", 0),
            ("Ascent", .real(Double(face.ascender) * scale)),
            ("Descent", .real(Double(face.descender) * scale)),
            ("CapHeight", .real(Double(face.capHeight) * scale)),
            ("StemV", 80),
        ])
    }

    /// Writes the six objects and returns the Type0 font's reference.
    func write(into writer: inout PDFWriter) -> PDFRef {
        let type0 = writer.reserve(), cidFont = writer.reserve(), descriptorRef = writer.reserve()
        let file = writer.reserve(), toUnicodeRef = writer.reserve(), mapRef = writer.reserve()
        writer.write(type0, .dict(PDFDict([
            ("Type", .name("Font")), ("Subtype", .name("Type0")), ("BaseFont", .name(baseFont)),
            ("Encoding", .name("Identity-H")), ("DescendantFonts", [.ref(cidFont)]), ("ToUnicode", .ref(toUnicodeRef)),
        ])))
        writer.write(cidFont, .dict(PDFDict([
            ("Type", .name("Font")), ("Subtype", .name("CIDFontType2")), ("BaseFont", .name(baseFont)),
            ("CIDSystemInfo", .dict(PDFDict([("Registry", .literal("Adobe")), ("Ordering", .literal("Identity")), ("Supplement", 0)]))),
            ("FontDescriptor", .ref(descriptorRef)), ("DW", 1000), ("W", widths), ("CIDToGIDMap", .ref(mapRef)),
        ])))
        var descriptor = self.descriptor
        descriptor["FontFile2"] = .ref(file)
        writer.write(descriptorRef, .dict(descriptor))
        writer.writeStream(file, PDFDict([("Length1", .int(fontFileLength)), ("Filter", .name("FlateDecode"))]), data: fontFile)
        writer.writeStream(toUnicodeRef, PDFDict([("Filter", .name("FlateDecode"))]), data: toUnicode)
        writer.writeStream(mapRef, PDFDict([("Filter", .name("FlateDecode"))]), data: cidToGID)
        return type0
    }

    /// ISO 32000-1 §9.6.4: six capital letters, the same for the same subset.
    static func subsetTag(face: FontFace, glyphs: [UInt32]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt32) {
            for shift in stride(from: 0, to: 32, by: 8) {
                hash ^= UInt64((v >> UInt32(shift)) & 0xFF)
                hash = hash &* 0x100_0000_01b3
            }
        }
        for b in face.postScriptName.utf8 { mix(UInt32(b)) }
        for g in glyphs { mix(g) }
        var letters = ""
        for _ in 0..<6 {
            letters.unicodeScalars.append(Unicode.Scalar(UInt8(65 + hash % 26)))
            hash /= 26
        }
        return letters
    }

    static func toUnicodeCMap(_ table: CIDTable) -> [UInt8] {
        var out = PDFBytes(capacity: 400 + table.keys.count * 24)
        out.append("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n")
        out.append("/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n")
        out.append("/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n")
        out.append("1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
        var index = 0
        while index < table.keys.count {
            let chunk = min(100, table.keys.count - index)  // at most 100 entries per block
            out.int(chunk)
            out.append(" beginbfchar\n")
            for offset in 0..<chunk {
                let key = table.keys[index + offset]
                out.byte(UInt8(ascii: "<"))
                out.hex16(UInt16(index + offset + 1))
                out.append("> <")
                for scalar in [key.base, key.selector] where scalar != 0 {
                    for unit in String(Unicode.Scalar(scalar)!).utf16 { out.hex16(unit) }
                }
                out.append(">\n")
            }
            out.append("endbfchar\n")
            index += chunk
        }
        out.append("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
        return out.bytes
    }
}

/// A subset of the base font fixed for the life of the process: the glyphs of a template's
/// fixed texts (title, labels, the municipality's name), which every certificate of that
/// template draws. Subsetting and compressing them once per process rather than per
/// certificate is most of the rendering budget (docs/benchmarks.md).
///
/// It holds only template and configuration text, never resident data.
public final class PreparedFont: Sendable {
    let face: FontFace
    let table: CIDTable
    let embeddable: EmbeddableFont

    /// Every glyph of every text in `texts` must come from `face` (font index 0 of its stack).
    public init(face: FontFace, texts: [ShapedText]) throws(TypesettingError) {
        var table = CIDTable()
        for text in texts { for glyph in text.glyphs where glyph.font == 0 { _ = table.cid(for: glyph) } }
        self.face = face
        self.table = table
        self.embeddable = try EmbeddableFont(face: face, table: table, compression: 9)
    }

    func cid(for glyph: ShapedGlyph) -> UInt16? { glyph.font == 0 ? table.lookup(glyph) : nil }
    public var glyphCount: Int { table.keys.count }
}
