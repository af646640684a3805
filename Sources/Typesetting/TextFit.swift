/// How a value sits in its cell: the size chosen and the glyph ranges of each line.
public struct FittedText: Sendable {
    public let size: Double
    public let lineHeight: Double
    public let lines: [Range<Int>]
    public let text: ShapedText

    /// Width of one line in points, trailing spaces excluded.
    public func width(ofLine index: Int) -> Double {
        FittedText.visibleWidth(text.glyphs[lines[index]]) * size
    }

    static func visibleWidth(_ glyphs: ArraySlice<ShapedGlyph>) -> Double {
        var end = glyphs.endIndex
        while end > glyphs.startIndex, glyphs[end - 1].isSpace { end -= 1 }
        return glyphs[glyphs.startIndex..<end].reduce(0) { $0 + $1.advance }
    }

    /// The lines as separate shaped texts, for drawing.
    public var lineTexts: [ShapedText] { lines.map { ShapedText(glyphs: Array(text.glyphs[$0])) } }
}

extension ShapedGlyph {
    var isSpace: Bool { text.first.map { $0 == " " || $0 == "\u{3000}" } ?? false }
    /// Characters that may not start a line (行頭禁則): closing brackets and small punctuation.
    var noLineStart: Bool {
        guard let c = text.first else { return false }
        return "、。，．・：；！？）」』】〕｝〉》ー゛゜ぁぃぅぇぉっゃゅょァィゥェォッャュョ,.):;!?]}".unicodeScalars.contains(c)
    }
    /// Characters that may not end a line (行末禁則): opening brackets.
    var noLineEnd: Bool {
        guard let c = text.first else { return false }
        return "（「『【〔｛〈《([{".unicodeScalars.contains(c)
    }
}

/// Fits shaped text into a box: the largest size from `nominal` down to `minimum` (in steps of
/// `step`) at which the text, wrapped to the box width, has lines that fit the box height. Text
/// never overflows and is never cut: when nothing fits at the minimum size, fitting fails, so
/// templates must give every cell room for the longest value the feed accepts (tested).
public enum TextFitter {
    public static func fit(_ text: ShapedText, width: Double, height: Double, nominal: Double,
                           minimum: Double, lineSpacing: Double = 1.15, step: Double = 0.25,
                           maxLines: Int = .max) throws(TypesettingError) -> FittedText {
        // First one line, shrinking by at most a quarter (a date or a name stays on one line);
        // then wrapped lines from the nominal size down to the minimum.
        let oneLineFloor = max(minimum, nominal * 0.75)
        for (floor, lines) in [(oneLineFloor, 1), (minimum, maxLines)] {
            var size = nominal
            while size >= floor - 1e-9 {
                let lineHeight = size * lineSpacing
                // n lines take n-1 line pitches plus one em.
                let capacity = min(lines, Int(((height - size) / lineHeight).rounded(.down) + 1 + 1e-9))
                if capacity >= 1, let wrapped = wrap(text, width: width / size, maxLines: capacity) {
                    return FittedText(size: size, lineHeight: lineHeight, lines: wrapped, text: text)
                }
                size -= step
            }
        }
        throw TypesettingError(code: .doesNotFit, detail: "a value of \(text.glyphs.count) glyphs does not fit a \(width)×\(height) pt cell at \(minimum) pt")
    }

    /// Greedy line breaking in ems. Between CJK characters any position is a break; in Latin text
    /// a break goes after a space where the line has one. 禁則: a line does not start with a
    /// closing mark or end with an opening one, where moving one character avoids it.
    static func wrap(_ text: ShapedText, width: Double, maxLines: Int) -> [Range<Int>]? {
        let glyphs = text.glyphs
        if glyphs.isEmpty { return [0..<0] }
        var lines: [Range<Int>] = []
        var start = 0
        while start < glyphs.count {
            if lines.count == maxLines { return nil }
            var end = start
            var used = 0.0
            var lastSpaceBreak: Int?
            while end < glyphs.count {
                let g = glyphs[end]
                if !g.isSpace && used + g.advance > width + 1e-9 { break }
                used += g.advance
                end += 1
                if g.isSpace { lastSpaceBreak = end }
            }
            if end == start { return nil }  // one glyph wider than the box
            if end < glyphs.count {
                let isLatin: (ShapedGlyph) -> Bool = { ($0.text.first?.value ?? 0) < 0x2E80 && !$0.isSpace }
                if let space = lastSpaceBreak, space > start, isLatin(glyphs[end]), isLatin(glyphs[end - 1]) {
                    end = space
                } else if end - start > 1, glyphs[end].noLineStart || glyphs[end - 1].noLineEnd {
                    end -= 1
                }
            }
            lines.append(start..<end)
            start = end
        }
        return lines
    }
}
