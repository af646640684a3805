internal import KofuZlib

/// An image XObject ready to place: pixels already compressed. Build it once for an image that
/// every certificate carries (the 職印), per document for one that belongs to a person (印影).
public struct PDFImage: Sendable {
    public let width: Int
    public let height: Int
    let components: Int
    let data: [UInt8]
    let alpha: [UInt8]?

    /// Compressed bytes of the image and its soft mask as embedded.
    public var streamBytes: Int { data.count + (alpha?.count ?? 0) }

    public init(_ png: PNGImage, compression: Int32 = 6) {
        width = png.width
        height = png.height
        components = png.colorComponents
        data = Zlib.deflate(png.pixels, level: compression)
        alpha = png.alpha.map { Zlib.deflate($0, level: compression) }
    }

    public init(pngData: [UInt8], compression: Int32 = 6) throws(TypesettingError) {
        do {
            self.init(try PNGImage.decode(pngData), compression: compression)
        } catch {
            throw TypesettingError(code: .image, detail: "\(error)")
        }
    }

    func write(into writer: inout PDFWriter) -> PDFRef {
        let ref = writer.reserve()
        var dict = PDFDict([
            ("Type", .name("XObject")), ("Subtype", .name("Image")), ("Width", .int(width)), ("Height", .int(height)),
            ("ColorSpace", .name(components == 1 ? "DeviceGray" : "DeviceRGB")), ("BitsPerComponent", 8),
            ("Filter", .name("FlateDecode")),
        ])
        if let alpha {
            let mask = writer.reserve()
            dict["SMask"] = .ref(mask)
            writer.writeStream(ref, dict, data: data)
            writer.writeStream(mask, PDFDict([
                ("Type", .name("XObject")), ("Subtype", .name("Image")), ("Width", .int(width)), ("Height", .int(height)),
                ("ColorSpace", .name("DeviceGray")), ("BitsPerComponent", 8), ("Filter", .name("FlateDecode")),
            ]), data: alpha)
        } else {
            writer.writeStream(ref, dict, data: data)
        }
        return ref
    }
}

/// A placed image's resource name within one document.
public struct ImageHandle: Hashable, Sendable { let index: Int }

/// One PDF being built for one request. Not shared: every certificate gets its own document,
/// its own glyph tables and buffers, and drops them when `finish()` returns the bytes.
public final class PDFDocument {
    public static let a4 = (width: 595.276, height: 841.89)

    public let fonts: FontStack
    let labels: PreparedFont?
    var tables: [CIDTable]
    var usedLabelCIDs: Set<UInt16> = []
    var pages: [PDFPage] = []
    var images: [PDFImage] = []
    let title: String

    public init(fonts: FontStack, labels: PreparedFont? = nil, title: String) {
        self.fonts = fonts
        self.labels = labels
        self.tables = Array(repeating: CIDTable(), count: fonts.fonts.count)
        self.title = title
    }

    public func addPage() -> PDFPage {
        let page = PDFPage(document: self)
        pages.append(page)
        return page
    }

    public func register(_ image: PDFImage) -> ImageHandle {
        images.append(image)
        return ImageHandle(index: images.count - 1)
    }

    /// Glyphs of the prepared label font that this document never drew. A template whose fixed
    /// texts are not all drawn would embed glyphs the document does not use; the certificate
    /// layer treats a non-zero value as a template fault.
    public var unusedLabelGlyphs: Int {
        guard let labels, !usedLabelCIDs.isEmpty else { return 0 }
        return labels.glyphCount - usedLabelCIDs.count
    }

    /// The finished file. Deterministic: the same drawing calls give the same bytes.
    public func finish() throws(TypesettingError) -> [UInt8] {
        var writer = PDFWriter()
        let catalog = writer.reserve(), pagesRef = writer.reserve(), resources = writer.reserve(), info = writer.reserve()
        let pageRefs = pages.map { _ in writer.reserve() }

        var fontEntries: [(String, PDFObject)] = []
        if let labels, !usedLabelCIDs.isEmpty {
            fontEntries.append(("L", .ref(labels.embeddable.write(into: &writer))))
        }
        for (index, table) in tables.enumerated() where !table.isEmpty {
            let font = try EmbeddableFont(face: fonts.fonts[index], table: table, compression: 6)
            fontEntries.append(("F\(index)", .ref(font.write(into: &writer))))
        }
        var imageEntries: [(String, PDFObject)] = []
        for (index, image) in images.enumerated() {
            imageEntries.append(("Im\(index)", .ref(image.write(into: &writer))))
        }
        var resourceDict = PDFDict([("ProcSet", [.name("PDF"), .name("Text"), .name("ImageB"), .name("ImageC")])])
        if !fontEntries.isEmpty { resourceDict["Font"] = .dict(PDFDict(fontEntries)) }
        if !imageEntries.isEmpty { resourceDict["XObject"] = .dict(PDFDict(imageEntries)) }
        writer.write(resources, .dict(resourceDict))

        for (page, ref) in zip(pages, pageRefs) {
            let contents = writer.reserve()
            writer.writeStream(contents, PDFDict([("Filter", .name("FlateDecode"))]),
                               data: Zlib.deflate(page.content.bytes, level: 6))
            writer.write(ref, .dict(PDFDict([
                ("Type", .name("Page")), ("Parent", .ref(pagesRef)),
                ("MediaBox", [0, 0, .real(PDFDocument.a4.width), .real(PDFDocument.a4.height)]),
                ("Resources", .ref(resources)), ("Contents", .ref(contents)),
            ])))
        }
        writer.write(pagesRef, .dict(PDFDict([
            ("Type", .name("Pages")), ("Kids", .array(pageRefs.map { .ref($0) })), ("Count", .int(pages.count)),
        ])))
        writer.write(catalog, .dict(PDFDict([("Type", .name("Catalog")), ("Pages", .ref(pagesRef))])))
        var utf16 = [UInt8]([0xFE, 0xFF])
        for unit in title.utf16 { utf16 += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        writer.write(info, .dict(PDFDict([("Title", .hexString(utf16)), ("Producer", .literal("kofu"))])))
        return writer.finish(root: catalog, info: info)
    }
}

/// One page's content stream. Coordinates are PDF points from the bottom-left corner.
public final class PDFPage {
    unowned let document: PDFDocument
    var content = PDFBytes(capacity: 8 * 1024)

    init(document: PDFDocument) { self.document = document }

    /// Draws a shaped text with its baseline starting at (x, y). A glyph (with its characters)
    /// that the document's prepared label font holds is drawn from it; every other glyph from the
    /// document's own subset of its font, so no glyph is embedded twice.
    public func text(_ shaped: ShapedText, x: Double, y: Double, size: Double) {
        guard !shaped.glyphs.isEmpty else { return }
        let doc = document
        var out = PDFBytes(capacity: 32 + shaped.glyphs.count * 8)
        out.append("BT\n")
        var currentResource = ""
        var pen = x
        var inArray = false
        var needsMove = true

        func closeArray() {
            if inArray { out.append(">] TJ\n"); inArray = false }
        }

        for glyph in shaped.glyphs {
            let resource: String
            let cid: UInt16
            if let labelCID = doc.labels?.cid(for: glyph) {
                resource = "L"
                cid = labelCID
                doc.usedLabelCIDs.insert(labelCID)
            } else {
                resource = "F\(glyph.font)"
                cid = doc.tables[glyph.font].cid(for: glyph)
            }
            let face = doc.fonts.fonts[glyph.font]
            let pdfWidth = Double(face.advance(glyph.glyph)) / Double(face.unitsPerEm)
            let offset = glyph.xOffset != 0 || glyph.yOffset != 0
            if resource != currentResource {
                closeArray()
                out.name(resource)
                out.byte(0x20)
                out.real(size)
                out.append(" Tf\n")
                currentResource = resource
                needsMove = true
            }
            if needsMove || offset {
                closeArray()
                out.append("1 0 0 1 ")
                out.real(pen + glyph.xOffset * size)
                out.byte(0x20)
                out.real(y + glyph.yOffset * size)
                out.append(" Tm\n")
                needsMove = offset
            }
            if !inArray { out.append("[<"); inArray = true }
            out.hex16(cid)
            // TJ moves by the font's own width; correct to the shaper's advance where they differ.
            let adjust = ((pdfWidth - glyph.advance) * 1000 * 1000).rounded() / 1000
            if adjust != 0 && !offset {
                out.append("> ")
                out.real(adjust)
                out.append(" <")
            }
            pen += glyph.advance * size
        }
        closeArray()
        out.append("ET\n")
        content.append(out.bytes)
    }

    public func strokeLine(x1: Double, y1: Double, x2: Double, y2: Double, width: Double) {
        content.real(width); content.append(" w ")
        content.real(x1); content.byte(0x20); content.real(y1); content.append(" m ")
        content.real(x2); content.byte(0x20); content.real(y2); content.append(" l S\n")
    }

    public func strokeRect(x: Double, y: Double, width: Double, height: Double, lineWidth: Double) {
        content.real(lineWidth); content.append(" w ")
        rectPath(x, y, width, height)
        content.append(" S\n")
    }

    public func fillRect(x: Double, y: Double, width: Double, height: Double, gray: Double) {
        content.append("q ")
        content.real(gray); content.append(" g ")
        rectPath(x, y, width, height)
        content.append(" f Q\n")
    }

    /// Places an image scaled to exactly `width` × `height` points.
    public func image(_ handle: ImageHandle, x: Double, y: Double, width: Double, height: Double) {
        content.append("q ")
        content.real(width); content.append(" 0 0 ")
        content.real(height); content.byte(0x20)
        content.real(x); content.byte(0x20); content.real(y)
        content.append(" cm /Im")
        content.int(handle.index)
        content.append(" Do Q\n")
    }

    private func rectPath(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        content.real(x); content.byte(0x20); content.real(y); content.byte(0x20)
        content.real(w); content.byte(0x20); content.real(h); content.append(" re")
    }
}
