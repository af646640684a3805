internal import CFreeType
import Foundation
import Typesetting

public struct SealImageError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case text = "SEAL_TEXT", size = "SEAL_SIZE", freetype = "SEAL_FREETYPE", font = "SEAL_FONT", glyph = "SEAL_GLYPH"
    }
    public let code: Code
    public let detail: String

    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

/// Demo seal images (印影), drawn like real ones: vermilion ink on a transparent ground, the
/// characters rasterised from the given font (IPAmj明朝 in the demo) with FreeType and stretched
/// to fill their cells as seal script fills its square. RGBA PNG bytes; deterministic: the same
/// arguments give the same bytes.
public enum SealImage {
    static let ink: (UInt8, UInt8, UInt8) = (200, 30, 30)

    /// A square 職印 (e.g. "高槻市長之印"): a thick square border, the text in columns read from
    /// the right, each column top to bottom — 4 characters 2×2, 6 characters 3 columns of 2.
    public static func officialSeal(text: String, fontPath: String, sizePx: Int = 512) throws -> [UInt8] {
        let chars = try characters(text, max: 12)
        try checkSize(sizePx)
        let s = Double(sizePx)
        var canvas = Canvas(size: sizePx)
        let inset = s / 64, border = s / 13
        canvas.squareBorder(inset: inset, thickness: border, cornerRadius: s / 40)
        let layout = officialLayout(count: chars.count)
        let columns = (layout.map(\.column).max() ?? 0) + 1
        let gap = border * 0.45
        let innerStart = inset + border + gap, inner = s - 2 * innerStart
        let cellW = inner / Double(columns)
        try withFace(fontPath) { face in
            for (ch, place) in zip(chars, layout) {
                let cellH = inner / Double(place.rows)
                try canvas.glyph(face, ch, x: innerStart + Double(place.column) * cellW, y: innerStart + Double(place.row) * cellH,
                                 w: cellW, h: cellH, stroke: s / 200)
            }
        }
        return canvas.png()
    }

    /// Where each character of an official seal goes: `column` counted from the left, so the
    /// first character is in the rightmost column, top row. Columns get ⌈n/columns⌉ or ⌊n/columns⌋
    /// characters, the fuller ones on the right (5 characters: 3 on the right, 2 on the left).
    static func officialLayout(count n: Int) -> [(column: Int, row: Int, rows: Int)] {
        guard n > 0 else { return [] }
        let columns = n <= 3 ? 1 : n <= 5 ? 2 : n <= 9 ? 3 : 4
        var result: [(column: Int, row: Int, rows: Int)] = []
        for fromRight in 0..<columns {
            let rows = n / columns + (fromRight < n % columns ? 1 : 0)
            for row in 0..<rows { result.append((columns - 1 - fromRight, row, rows)) }
        }
        return result
    }

    /// A personal seal (印影): a ring (or, with `round: false`, a square frame) around the surname
    /// stacked vertically, 1–3 characters.
    public static func personalSeal(text: String, fontPath: String, sizePx: Int = 256, round: Bool = true) throws -> [UInt8] {
        let chars = try characters(text, max: 4)
        try checkSize(sizePx)
        let s = Double(sizePx)
        var canvas = Canvas(size: sizePx)
        let ring = s / 17, inset = s / 64
        // Each character's cell: stacked rows of the text block; in a ring each row is as wide as
        // the circle allows at its edge farthest from the centre (the middle one of three is
        // widest, but at most 1.5× as wide as high). A little overshoot is fine since the corners
        // of a glyph's box are mostly blank.
        var cells: [(x: Double, y: Double, w: Double, h: Double)] = []
        if round {
            canvas.ring(center: s / 2, outer: s / 2 - inset, thickness: ring)
            let radius = (s / 2 - inset - ring - s * 0.03) * [1: 1.12, 2: 1.1, 3: 1.06, 4: 1.04][chars.count]!
            let boxH = 2 * radius * sin([1: 45.0, 2: 56.0, 3: 61.0, 4: 64.0][chars.count]! * .pi / 180)
            let cellH = boxH / Double(chars.count)
            for i in 0..<chars.count {
                let top = (s - boxH) / 2 + Double(i) * cellH
                let farthest = max(abs(top - s / 2), abs(top + cellH - s / 2))
                let w = min(2 * (radius * radius - farthest * farthest).squareRoot(), 1.5 * cellH)
                cells.append(((s - w) / 2, top, w, cellH))
            }
        } else {
            canvas.squareBorder(inset: inset, thickness: ring, cornerRadius: s / 30)
            let box = s - 2 * (inset + ring + s * 0.04)
            let cellH = box / Double(chars.count)
            for i in 0..<chars.count { cells.append(((s - box) / 2, (s - box) / 2 + Double(i) * cellH, box, cellH)) }
        }
        try withFace(fontPath) { face in
            for (ch, cell) in zip(chars, cells) {
                try canvas.glyph(face, ch, x: cell.x, y: cell.y, w: cell.w, h: cell.h, stroke: s / 180)
            }
        }
        return canvas.png()
    }

    private static func characters(_ text: String, max: Int) throws(SealImageError) -> [Character] {
        let chars = Array(text)
        guard !chars.isEmpty, chars.count <= max else {
            throw SealImageError(code: .text, detail: "\(chars.count) characters, 1…\(max) expected")
        }
        return chars
    }

    private static func checkSize(_ sizePx: Int) throws(SealImageError) {
        guard (32...4096).contains(sizePx) else { throw SealImageError(code: .size, detail: "size \(sizePx) px, 32…4096 expected") }
    }

    /// One FreeType library and face for the duration of `body`, released on every path.
    private static func withFace(_ path: String, _ body: (FT_Face) throws -> Void) throws {
        var library: FT_Library?
        let status = FT_Init_FreeType(&library)
        guard status == 0, let library else { throw SealImageError(code: .freetype, detail: "FT_Init_FreeType failed (\(status))") }
        defer { FT_Done_FreeType(library) }
        var face: FT_Face?
        let opened = FT_New_Face(library, path, 0, &face)
        guard opened == 0, let face else { throw SealImageError(code: .font, detail: "cannot open \(path) (FreeType error \(opened))") }
        defer { FT_Done_Face(face) }
        try body(face)
    }

    /// Coverage in 0…1, composed by union (max), then written as ink colour + alpha.
    struct Canvas {
        let size: Int
        var coverage: [Double]

        init(size: Int) {
            self.size = size
            coverage = [Double](repeating: 0, count: size * size)
        }

        mutating func plot(_ x: Int, _ y: Int, _ a: Double) {
            guard x >= 0, y >= 0, x < size, y < size, a > 0 else { return }
            let i = y * size + x
            if a > coverage[i] { coverage[i] = min(a, 1) }
        }

        /// Signed distance from (px, py) to a rounded square centred on the canvas (negative inside).
        func roundedSquareDistance(_ px: Double, _ py: Double, half: Double, radius: Double) -> Double {
            let c = Double(size) / 2
            let qx = abs(px - c) - (half - radius), qy = abs(py - c) - (half - radius)
            let outside = (max(qx, 0) * max(qx, 0) + max(qy, 0) * max(qy, 0)).squareRoot()
            return outside + min(max(qx, qy), 0) - radius
        }

        /// A square frame, anti-aliased by distance: the outer edge `inset` from the canvas edge.
        mutating func squareBorder(inset: Double, thickness: Double, cornerRadius: Double) {
            let outerHalf = Double(size) / 2 - inset, innerHalf = outerHalf - thickness
            let innerRadius = max(cornerRadius - thickness, 0)
            for y in 0..<size {
                for x in 0..<size {
                    let px = Double(x) + 0.5, py = Double(y) + 0.5
                    let outer = roundedSquareDistance(px, py, half: outerHalf, radius: cornerRadius)
                    let inner = roundedSquareDistance(px, py, half: innerHalf, radius: innerRadius)
                    plot(x, y, clamp(0.5 - outer) * clamp(0.5 + inner))
                }
            }
        }

        mutating func ring(center c: Double, outer: Double, thickness: Double) {
            let inner = outer - thickness
            for y in 0..<size {
                for x in 0..<size {
                    let dx = Double(x) + 0.5 - c, dy = Double(y) + 0.5 - c
                    let r = (dx * dx + dy * dy).squareRoot()
                    plot(x, y, clamp(outer - r + 0.5) * clamp(r - inner + 0.5))
                }
            }
        }

        /// Renders `ch` at about twice the cell size and resamples its ink box (box filter) into
        /// the cell, stretched to fill it, then thickens the strokes by `stroke` pixels.
        mutating func glyph(_ face: FT_Face, _ ch: Character, x: Double, y: Double, w: Double, h: Double, stroke: Double) throws {
            for scalar in ch.unicodeScalars where !(0xFE00...0xFE0F).contains(scalar.value) && !(0xE0100...0xE01EF).contains(scalar.value) {
                guard FT_Get_Char_Index(face, FT_ULong(scalar.value)) != 0 else {
                    throw SealImageError(code: .glyph, detail: "the font has no glyph for \(scalar.uPlus)")
                }
                let px = FT_UInt(min(max(w, h) * 2, 4096))
                guard FT_Set_Pixel_Sizes(face, 0, px) == 0,
                      FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_RENDER)) == 0,
                      let slot = face.pointee.glyph else {
                    throw SealImageError(code: .glyph, detail: "cannot render \(scalar.uPlus)")
                }
                let bitmap = slot.pointee.bitmap
                let bw = Int(bitmap.width), bh = Int(bitmap.rows), pitch = Int(bitmap.pitch)
                guard bw > 0, bh > 0, let buffer = bitmap.buffer else { return }  // a space: no ink
                guard bitmap.pixel_mode == UInt8(FT_PIXEL_MODE_GRAY.rawValue), pitch >= bw else {
                    throw SealImageError(code: .glyph, detail: "unexpected bitmap format for \(scalar.uPlus)")
                }
                // Target rectangle: the ink box stretched to the cell less a small margin, each
                // axis at most 1.35× what fitting the whole em square would give, so that a
                // glyph with a small ink box (一, ノ) keeps its proportions instead of becoming a block.
                let margin = min(w, h) * 0.04 + stroke
                let em = Double(px), maxStretch = 1.35
                let tw = min(w - 2 * margin, Double(bw) * (w - 2 * margin) / em * maxStretch)
                let th = min(h - 2 * margin, Double(bh) * (h - 2 * margin) / em * maxStretch)
                let left = x + (w - tw) / 2, top = y + (h - th) / 2
                // Whole destination pixels covered by the target rectangle; resample into them.
                let dx0 = Int(left.rounded()), dy0 = Int(top.rounded())
                let dw = max(1, Int((left + tw).rounded()) - dx0), dh = max(1, Int((top + th).rounded()) - dy0)
                let cols = weights(source: bw, destination: dw), rows = weights(source: bh, destination: dh)
                var horizontal = [Double](repeating: 0, count: bh * dw)
                for sy in 0..<bh {
                    for dx in 0..<dw {
                        var sum = 0.0
                        for (s, weight) in cols[dx] { sum += Double(buffer[sy * pitch + s]) * weight }
                        horizontal[sy * dw + dx] = sum / 255
                    }
                }
                var cell = [Double](repeating: 0, count: dw * dh)
                for dy in 0..<dh {
                    for dx in 0..<dw {
                        var sum = 0.0
                        for (s, weight) in rows[dy] { sum += horizontal[s * dw + dx] * weight }
                        cell[dy * dw + dx] = sum
                    }
                }
                // Thicken: max over a disc of radius `stroke`, the rim weighted by its distance.
                let r = Int(stroke.rounded(.up))
                for dy in -r..<(dh + r) {
                    for dx in -r..<(dw + r) {
                        var a = 0.0
                        for oy in -r...r {
                            let yy = dy + oy
                            guard yy >= 0, yy < dh else { continue }
                            for ox in -r...r {
                                let xx = dx + ox
                                guard xx >= 0, xx < dw else { continue }
                                let d = Double(ox * ox + oy * oy).squareRoot()
                                let weight = clamp(stroke + 0.5 - d)
                                if weight > 0 { a = max(a, cell[yy * dw + xx] * weight) }
                            }
                        }
                        plot(dx0 + dx, dy0 + dy, a)
                    }
                }
            }
        }

        /// Box-filter weights: for each destination index, the source indexes it covers and how
        /// much (summing to 1).
        func weights(source: Int, destination: Int) -> [[(Int, Double)]] {
            let scale = Double(source) / Double(destination)
            return (0..<destination).map { d in
                let lo = Double(d) * scale, hi = Double(d + 1) * scale
                var list: [(Int, Double)] = []
                var s = Int(lo)
                while Double(s) < hi && s < source {
                    let w = min(hi, Double(s + 1)) - max(lo, Double(s))
                    if w > 0 { list.append((s, w / scale)) }
                    s += 1
                }
                return list
            }
        }

        func png() -> [UInt8] {
            var rgb = [UInt8](repeating: 0, count: size * size * 3)
            for i in 0..<(size * size) {
                rgb[3 * i] = SealImage.ink.0
                rgb[3 * i + 1] = SealImage.ink.1
                rgb[3 * i + 2] = SealImage.ink.2
            }
            let alpha = coverage.map { UInt8(($0 * 255).rounded()) }
            return PNGImage.encode(width: size, height: size, colorComponents: 3, pixels: rgb, alpha: alpha)
        }
    }
}

@inline(__always) private func clamp(_ v: Double) -> Double { min(max(v, 0), 1) }
