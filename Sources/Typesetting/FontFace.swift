internal import CHarfBuzz

/// One font file, opened once per process and shared read-only by every rendering.
///
/// HarfBuzz faces and fonts are safe to use from several threads once made immutable, so a
/// `FontFace` is `Sendable`. It holds nothing that belongs to a request. The 45 MB IPAmj file is
/// memory-mapped by HarfBuzz, and the subsetting plan data is built once here (`hb_subset_preprocess`),
/// which turns a 10 ms subset into tens of microseconds.
public final class FontFace: @unchecked Sendable {
    public let path: String
    /// The font's PostScript name (name ID 6), used for the PDF BaseFont after the subset tag.
    public let postScriptName: String
    public let unitsPerEm: Int
    public let glyphCount: Int
    public let ascender: Int
    public let descender: Int
    public let capHeight: Int
    public let boundingBox: (xMin: Int, yMin: Int, xMax: Int, yMax: Int)

    let blob: OpaquePointer
    let face: OpaquePointer
    let font: OpaquePointer
    /// The face prepared for repeated subsetting; created lazily on the first subset so that
    /// processes that only measure text do not pay 200 ms and 60 MB for it.
    private let subsetFaceOnce = Once<OpaquePointer>()

    public init(path: String) throws(TypesettingError) {
        guard let blob = hb_blob_create_from_file_or_fail(path) else {
            throw TypesettingError(code: .fontUnreadable, detail: "cannot read font file \(path)")
        }
        let face = hb_face_create(blob, 0)!
        guard hb_face_get_glyph_count(face) > 1, hb_face_get_upem(face) >= 16 else {
            hb_face_destroy(face)
            hb_blob_destroy(blob)
            throw TypesettingError(code: .fontUnreadable, detail: "not a usable OpenType font: \(path)")
        }
        hb_face_make_immutable(face)
        let font = hb_font_create(face)!
        hb_font_make_immutable(font)
        self.path = path
        self.blob = blob
        self.face = face
        self.font = font
        self.unitsPerEm = Int(hb_face_get_upem(face))
        self.glyphCount = Int(hb_face_get_glyph_count(face))

        var extents = hb_font_extents_t()
        hb_font_get_h_extents(font, &extents)
        self.ascender = Int(extents.ascender)
        self.descender = Int(extents.descender)
        var cap: hb_position_t = 0
        self.capHeight = hb_ot_metrics_get_position(font, HB_OT_METRICS_TAG_CAP_HEIGHT, &cap) != 0
            ? Int(cap) : Int(extents.ascender)
        self.boundingBox = FontFace.readHeadBBox(face) ?? (0, Int(extents.descender), unitsPerEm, Int(extents.ascender))
        self.postScriptName = FontFace.readName(face, id: 6) ?? "KofuFont"
    }

    deinit {
        if let prepared = subsetFaceOnce.valueIfSet { hb_face_destroy(prepared) }
        hb_font_destroy(font)
        hb_face_destroy(face)
        hb_blob_destroy(blob)
    }

    /// The glyph the font's own cmap gives this code point, or nil. HarfBuzz's shaper would
    /// substitute (compatibility decomposition, space and hyphen fallbacks); this does not.
    public func nominalGlyph(_ scalar: Unicode.Scalar) -> UInt32? {
        var glyph: hb_codepoint_t = 0
        return hb_font_get_nominal_glyph(font, scalar.value, &glyph) != 0 ? glyph : nil
    }

    /// The glyph that the cmap format 14 table registers for base + selector, or nil when the
    /// sequence is not registered (the default-UVS case counts as registered: it maps to the
    /// base character's glyph by the font's own declaration).
    public func variationGlyph(_ base: Unicode.Scalar, _ selector: Unicode.Scalar) -> UInt32? {
        var glyph: hb_codepoint_t = 0
        return hb_font_get_variation_glyph(font, base.value, selector.value, &glyph) != 0 ? glyph : nil
    }

    /// Horizontal advance in font units.
    public func advance(_ glyph: UInt32) -> Int {
        Int(hb_font_get_glyph_h_advance(font, glyph))
    }

    /// The face ready for `hb_subset_plan_create_or_fail`.
    ///
    /// hb-subset closes the glyph set over the cmap format 14 table (every variant of every
    /// character a kept glyph maps from) and over GSUB, even when those tables are dropped from
    /// the output: 葛's plain glyph alone brought six variant glyphs along. The subsetting source
    /// is therefore a face without cmap and the layout tables (their blobs are shared, not
    /// copied), so a subset holds exactly the drawn glyphs and .notdef.
    var subsetFace: OpaquePointer {
        subsetFaceOnce.get {
            let builder = hb_face_builder_create()!
            var tags = [hb_tag_t](repeating: 0, count: 64)
            var count = UInt32(tags.count)
            _ = hb_face_get_table_tags(face, 0, &count, &tags)
            for tag in tags.prefix(Int(count)) where !FontFace.subsetSourceDrops.contains(tag) {
                let table = hb_face_reference_table(face, tag)
                hb_face_builder_add_table(builder, tag, table)
                hb_blob_destroy(table)
            }
            let prepared = hb_subset_preprocess(builder)!
            hb_face_destroy(builder)
            return prepared
        }
    }

    static let subsetSourceDrops: Set<hb_tag_t> = Set(["cmap", "GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "vhea", "vmtx", "VORG", "morx", "mort", "kerx"].map {
        let c = Array($0.utf8).map { CChar(bitPattern: $0) }
        return kofu_hb_tag(c[0], c[1], c[2], c[3])
    })

    /// Builds the subsetting tables now (about 200 ms for IPAmj) rather than on the first request.
    public func prepareForSubsetting() { _ = subsetFace }

    private static func readName(_ face: OpaquePointer, id: UInt32) -> String? {
        var length: UInt32 = 128
        var buffer = [UInt8](repeating: 0, count: 128)
        let total = hb_ot_name_get_utf8(face, hb_ot_name_id_t(id), hb_language_from_string("en", -1), &length,
                                        &buffer)
        guard total > 0 else { return nil }
        let name = String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
        // A PDF name: keep it to the printable ASCII a BaseFont may carry.
        let cleaned = String(name.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && !"()<>[]{}/%#".unicodeScalars.contains($0) }.map(Character.init))
        return cleaned.isEmpty ? nil : cleaned
    }

    private static func readHeadBBox(_ face: OpaquePointer) -> (Int, Int, Int, Int)? {
        let table = hb_face_reference_table(face, kofu_hb_tag(0x68, 0x65, 0x61, 0x64))  // 'head'
        defer { hb_blob_destroy(table) }
        var length: UInt32 = 0
        guard let data = hb_blob_get_data(table, &length), length >= 44 else { return nil }
        let raw = UnsafeRawPointer(data)
        func s16(_ offset: Int) -> Int {
            Int(Int16(bitPattern: UInt16(raw.load(fromByteOffset: offset, as: UInt8.self)) << 8
                | UInt16(raw.load(fromByteOffset: offset + 1, as: UInt8.self))))
        }
        return (s16(36), s16(38), s16(40), s16(42))
    }
}

/// A value computed at most once, from any thread.
final class Once<Value>: @unchecked Sendable {
    private let lock = Lock()
    private var value: Value?

    var valueIfSet: Value? { lock.withLock { value } }

    func get(_ make: () -> Value) -> Value {
        lock.withLock {
            if let value { return value }
            let made = make()
            value = made
            return made
        }
    }
}
