internal import CHarfBuzz

/// A TrueType subset of one face: the font program bytes and where each original glyph went.
public struct FontSubset: Sendable {
    public let program: [UInt8]
    /// Original glyph id → glyph id in `program`.
    public let newGlyph: [UInt32: UInt32]
    public let glyphCount: Int
}

extension FontFace {
    /// Tables a PDF viewer needs from a CIDFontType2 program (ISO 32000-1 §9.9: glyf, head, hhea,
    /// hmtx, loca, maxp; cvt/fpgm/prep go with hinting, which is dropped). Layout tables are
    /// dropped too, which also keeps hb-subset from adding GSUB alternates to the glyph closure:
    /// the subset then holds the drawn glyphs and .notdef, nothing else.
    private static let droppedTables: [String] = [
        "GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "vhea", "vmtx", "VORG", "name", "cmap", "gasp",
        "DSIG", "kern", "hdmx", "LTSH", "VDMX", "cvt ", "fpgm", "prep", "morx", "mort", "kerx", "feat",
    ]

    /// Subsets the face to `glyphs` (plus .notdef) with hb-subset, without hinting and without
    /// keeping original glyph ids (IPAmj has 61,179 glyphs; a retained loca alone is 245 KB).
    public func subset(glyphs: some Collection<UInt32>) throws(TypesettingError) -> FontSubset {
        guard let input = hb_subset_input_create_or_fail() else {
            throw TypesettingError(code: .subsetFailed, detail: "hb_subset_input_create_or_fail")
        }
        defer { hb_subset_input_destroy(input) }
        let glyphSet = hb_subset_input_glyph_set(input)
        hb_set_add(glyphSet, 0)
        for glyph in glyphs { hb_set_add(glyphSet, glyph) }
        hb_subset_input_set_flags(input, HB_SUBSET_FLAGS_NO_HINTING.rawValue)
        let drop = hb_subset_input_set(input, HB_SUBSET_SETS_DROP_TABLE_TAG)
        for tag in FontFace.droppedTables {
            let c = Array(tag.utf8).map { CChar(bitPattern: $0) }
            hb_set_add(drop, kofu_hb_tag(c[0], c[1], c[2], c[3]))
        }
        guard let plan = hb_subset_plan_create_or_fail(subsetFace, input) else {
            throw TypesettingError(code: .subsetFailed, detail: "hb_subset_plan_create_or_fail for \(path)")
        }
        defer { hb_subset_plan_destroy(plan) }
        let mapping = hb_subset_plan_old_to_new_glyph_mapping(plan)
        var newGlyph: [UInt32: UInt32] = [:]
        newGlyph.reserveCapacity(glyphs.count)
        for glyph in glyphs {
            let mapped = hb_map_get(mapping, glyph)
            guard mapped != UInt32.max else {  // HB_MAP_VALUE_INVALID
                throw TypesettingError(code: .subsetFailed, detail: "glyph \(glyph) missing from the subset of \(path)")
            }
            newGlyph[glyph] = mapped
        }

        guard let result = hb_subset_plan_execute_or_fail(plan) else {
            throw TypesettingError(code: .subsetFailed, detail: "hb_subset_plan_execute_or_fail for \(path)")
        }
        defer { hb_face_destroy(result) }
        let blob = hb_face_reference_blob(result)
        defer { hb_blob_destroy(blob) }
        var length: UInt32 = 0
        guard let data = hb_blob_get_data(blob, &length), length > 0 else {
            throw TypesettingError(code: .subsetFailed, detail: "empty subset of \(path)")
        }
        let program = [UInt8](UnsafeRawBufferPointer(start: data, count: Int(length)))
        return FontSubset(program: program, newGlyph: newGlyph, glyphCount: Int(hb_face_get_glyph_count(result)))
    }
}
