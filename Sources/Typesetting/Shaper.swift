internal import CHarfBuzz

/// One drawn glyph: which font of the stack, its glyph id in that font, the exact characters it
/// stands for (a base character and, for a variation sequence, its selector), and its position in
/// ems (font units divided by the font's unitsPerEm), so a size in points scales it directly.
public struct ShapedGlyph: Sendable, Equatable {
    public let font: Int
    public let glyph: UInt32
    public let text: String.UnicodeScalarView
    public let advance: Double
    public let xOffset: Double
    public let yOffset: Double

    public static func == (a: ShapedGlyph, b: ShapedGlyph) -> Bool {
        a.font == b.font && a.glyph == b.glyph && a.advance == b.advance && a.xOffset == b.xOffset
            && a.yOffset == b.yOffset && Array(a.text) == Array(b.text)
    }
}

/// A shaped value: glyphs in logical (= visual, horizontal Japanese and Latin) order.
public struct ShapedText: Sendable, Equatable {
    public var glyphs: [ShapedGlyph]
    /// Width in ems.
    public var width: Double { glyphs.reduce(0) { $0 + $1.advance } }
    public init(glyphs: [ShapedGlyph]) { self.glyphs = glyphs }
}

/// The fonts one municipality prints with: the base font (IPAmj明朝) then its 外字 fonts in order.
///
/// Coverage is decided here from the fonts' own cmaps, before HarfBuzz runs, because the shaper
/// falls back silently (a missing code point becomes a decomposition or a look-alike; an
/// unregistered variation sequence becomes the plain glyph). The rule (certificates.md):
/// - a Private Use Area code point is drawn only from the 外字 fonts, first that maps it;
/// - any other code point from the base font, then the 外字 fonts in order;
/// - a variation sequence only from a font whose cmap format 14 registers exactly that sequence;
/// - a selector with no base character before it (or after another selector) is not drawable.
public struct FontStack: Sendable {
    public let fonts: [FontFace]
    public var base: FontFace { fonts[0] }

    public init(base: FontFace, gaiji: [FontFace]) {
        self.fonts = [base] + gaiji
    }

    private struct Cluster {
        var base: Unicode.Scalar
        var selector: Unicode.Scalar?
        var font: Int
        var glyph: UInt32

        /// The characters of the cluster, as an error names them.
        var scalars: [Unicode.Scalar] { selector.map { [base, $0] } ?? [base] }

        /// HarfBuzz composes a base and a following mark (e + U+0301 → é, か + U+3099 → が) when
        /// the font has the composite, which would print another character's glyph. A mark (or
        /// a Hangul vowel or final jamo) therefore starts a buffer of its own.
        var composesWithPrevious: Bool {
            switch base.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: return true
            default: return base.properties.canonicalCombiningClass != .notReordered || (0x1160...0x11FF).contains(base.value)
            }
        }
    }

    /// Shapes `text` or fails with `.unrenderable` naming the first code point (or sequence) that
    /// no font draws. Never returns a substitute glyph.
    public func shape(_ text: String) throws(TypesettingError) -> ShapedText {
        let scalars = Array(text.unicodeScalars)
        var clusters: [Cluster] = []
        clusters.reserveCapacity(scalars.count)
        var i = 0
        while i < scalars.count {
            let base = scalars[i]
            if base.isVariationSelector {
                throw .unrenderable([base], "variation selector without a base character")
            }
            if base.properties.generalCategory == .control {
                // Some fonts map NUL or CR to an empty glyph; a control character is never drawn.
                throw .unrenderable([base], "control character")
            }
            var selector: Unicode.Scalar?
            if i + 1 < scalars.count, scalars[i + 1].isVariationSelector {
                selector = scalars[i + 1]
                i += 1
            }
            i += 1
            guard let (font, glyph) = locate(base, selector) else {
                let seq = selector.map { [base, $0] } ?? [base]
                throw .unrenderable(seq, selector == nil ? "no configured font maps this code point"
                                                        : "no configured font registers this variation sequence")
            }
            clusters.append(Cluster(base: base, selector: selector, font: font, glyph: glyph))
        }

        var glyphs: [ShapedGlyph] = []
        glyphs.reserveCapacity(clusters.count)
        var start = 0
        while start < clusters.count {
            var end = start + 1
            while end < clusters.count, clusters[end].font == clusters[start].font, !clusters[end].composesWithPrevious { end += 1 }
            try shapeRun(clusters[start..<end], into: &glyphs)
            start = end
        }
        return ShapedText(glyphs: glyphs)
    }

    private func locate(_ base: Unicode.Scalar, _ selector: Unicode.Scalar?) -> (Int, UInt32)? {
        let candidates = base.isPrivateUse ? 1..<fonts.count : 0..<fonts.count
        for index in candidates {
            let face = fonts[index]
            let glyph = selector.map { face.variationGlyph(base, $0) } ?? face.nominalGlyph(base)
            if let glyph, glyph != 0 { return (index, glyph) }
        }
        return nil
    }

    private static let features: [hb_feature_t] = {
        // Substitutions that could replace a registered glyph by another are off: the glyph of a
        // person's name is the one the cmap (or cmap 14) registers, nothing else. Positioning
        // (kern, mark) stays on.
        ["ccmp", "locl", "liga", "clig", "calt", "rlig", "dlig", "rclt"].map { tag in
            let c = Array(tag.utf8).map { CChar(bitPattern: $0) }
            return hb_feature_t(tag: kofu_hb_tag(c[0], c[1], c[2], c[3]), value: 0, start: 0, end: UInt32.max)
        }
    }()

    nonisolated(unsafe) private static let japanese = hb_language_from_string("ja", -1)  // interned, immutable

    private func shapeRun(_ run: ArraySlice<Cluster>, into glyphs: inout [ShapedGlyph]) throws(TypesettingError) {
        let face = fonts[run.first!.font]
        let buffer = hb_buffer_create()!
        defer { hb_buffer_destroy(buffer) }
        hb_buffer_set_cluster_level(buffer, HB_BUFFER_CLUSTER_LEVEL_CHARACTERS)
        hb_buffer_set_flags(buffer, hb_buffer_flags_t(rawValue: HB_BUFFER_FLAG_REMOVE_DEFAULT_IGNORABLES.rawValue
            | HB_BUFFER_FLAG_DO_NOT_INSERT_DOTTED_CIRCLE.rawValue))
        for (offset, cluster) in run.enumerated() {
            hb_buffer_add(buffer, cluster.base.value, UInt32(offset))
            if let selector = cluster.selector { hb_buffer_add(buffer, selector.value, UInt32(offset)) }
        }
        hb_buffer_set_content_type(buffer, HB_BUFFER_CONTENT_TYPE_UNICODE)
        hb_buffer_guess_segment_properties(buffer)
        hb_buffer_set_direction(buffer, HB_DIRECTION_LTR)
        hb_buffer_set_language(buffer, FontStack.japanese)
        FontStack.features.withUnsafeBufferPointer { hb_shape(face.font, buffer, $0.baseAddress, UInt32($0.count)) }

        var count: UInt32 = 0
        let infos = hb_buffer_get_glyph_infos(buffer, &count)!
        let positions = hb_buffer_get_glyph_positions(buffer, &count)!
        // One glyph per cluster, in order, each exactly the glyph the cmaps promised. Anything
        // else (a default-ignorable removed, a glyph the shaper chose itself) refuses the text.
        let clusters = Array(run)
        for index in 0..<min(Int(count), clusters.count) where infos[index].cluster != UInt32(index)
            || infos[index].codepoint != clusters[index].glyph {
            let c = clusters[min(Int(infos[index].cluster), clusters.count - 1)]
            throw .unrenderable(c.scalars,
                                "the shaper did not draw the registered glyph")
        }
        guard Int(count) == clusters.count else {
            let c = clusters[min(Int(count), clusters.count - 1)]
            throw .unrenderable(c.scalars, "the shaper dropped or added a glyph")
        }
        let em = Double(face.unitsPerEm)
        for index in 0..<clusters.count {
            let c = clusters[index]
            var text = String.UnicodeScalarView()
            text.append(c.base)
            if let selector = c.selector { text.append(selector) }
            glyphs.append(ShapedGlyph(font: c.font, glyph: c.glyph, text: text,
                                      advance: Double(positions[index].x_advance) / em,
                                      xOffset: Double(positions[index].x_offset) / em,
                                      yOffset: Double(positions[index].y_offset) / em))
        }
    }
}
