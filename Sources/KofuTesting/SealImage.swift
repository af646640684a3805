internal import CFreeType
import Typesetting

public struct SealImageError: Error, CustomStringConvertible {
    public let code: String
    public let description: String
}

/// Demo seal images (印影), drawn like real ones: vermilion ink on a transparent ground, the
/// characters rasterised from IPAmj明朝 with FreeType and stretched to fill their cells.
/// Deterministic: the same text gives the same PNG bytes.
public enum SealImage {
    static let ink: (UInt8, UInt8, UInt8) = (200, 30, 30)

    /// A square 職印: a thick square border, the text in columns read from the right.
    public static func officialSeal(text: String, fontPath: String, sizePx: Int = 512) throws -> [UInt8] {
        var canvas = Canvas(size: sizePx)
        let border = sizePx / 14
        canvas.square(inset: border / 2, thickness: border)
        let chars = Array(text)
        let columns = chars.count <= 4 ? 2 : 3
        let rows = (chars.count + columns - 1) / columns
        let inner = sizePx - 4 * border
        let cellW = inner / columns, cellH = inner / rows
        try withFace(fontPath) { face in
            for (i, ch) in chars.enumerated() {
                let column = columns - 1 - i / rows  // right to left
                let row = i % rows
                try canvas.glyph(face, ch, x: 2 * border + column * cellW, y: 2 * border + row * cellH, w: cellW, h: cellH)
            }
        }
        return canvas.png()
    }

    /// A round personal seal: a ring and the surname stacked vertically.
    public static func personalSeal(text: String, fontPath: String, sizePx: Int = 256, round: Bool = true) throws -> [UInt8] {
        var canvas = Canvas(size: sizePx)
        let ring = sizePx / 16
        if round { canvas.ring(thickness: ring) } else { canvas.square(inset: ring / 2, thickness: ring) }
        let chars = Array(text)
        let innerW = Int(Double(sizePx) * 0.5), innerH = Int(Double(sizePx) * 0.70)
        let cellH = innerH / max(1, chars.count)
        try withFace(fontPath) { face in
            for (i, ch) in chars.enumerated() {
                try canvas.glyph(face, ch, x: (sizePx - innerW) / 2, y: (sizePx - innerH) / 2 + i * cellH, w: innerW, h: cellH)
            }
        }
        return canvas.png()
    }

    private static func withFace(_ path: String, _ body: (FT_Face) throws -> Void) throws {
        var library: FT_Library?
        guard FT_Init_FreeType(&library) == 0, let library else { throw SealImageError(code: "FREETYPE", description: "FT_Init_FreeType failed") }
        defer { FT_Done_FreeType(library) }
        var face: FT_Face?
        guard FT_New_Face(library, path, 0, &face) == 0, let face else {
            throw SealImageError(code: "FONT", description: "cannot open \(path)")
        }
        defer { FT_Done_Face(face) }
        try body(face)
    }

    struct Canvas {
        let size: Int
        var alpha: [UInt8]

        init(size: Int) {
            self.size = size
            alpha = [UInt8](repeating: 0, count: size * size)
        }

        mutating func plot(_ x: Int, _ y: Int, _ a: UInt8) {
            guard x >= 0, y >= 0, x < size, y < size else { return }
            alpha[y * size + x] = max(alpha[y * size + x], a)
        }

        mutating func square(inset: Int, thickness: Int) {
            for y in 0..<size {
                for x in 0..<size {
                    let d = min(x - inset, y - inset, size - 1 - inset - x, size - 1 - inset - y)
                    if d >= 0 && d < thickness { plot(x, y, 255) }
                }
            }
        }

        mutating func ring(thickness: Int) {
            let c = Double(size - 1) / 2, outer = Double(size) / 2 - 1, inner = outer - Double(thickness)
            for y in 0..<size {
                for x in 0..<size {
                    let r = ((Double(x) - c) * (Double(x) - c) + (Double(y) - c) * (Double(y) - c)).squareRoot()
                    // One pixel of anti-aliasing on both edges.
                    let a = min(max(0, outer - r + 0.5), 1) * min(max(0, r - inner + 0.5), 1)
                    if a > 0 { plot(x, y, UInt8(a * 255)) }
                }
            }
        }

        /// Rasterises one character at a large size and scales its ink box to fill the cell.
        mutating func glyph(_ face: FT_Face, _ ch: Character, x: Int, y: Int, w: Int, h: Int) throws {
            guard let scalar = ch.unicodeScalars.first else { return }
            FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(w, h) * 2))
            guard FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_RENDER)) == 0 else {
                throw SealImageError(code: "GLYPH", description: "cannot render \(scalar.uPlus)")
            }
            let bitmap = face.pointee.glyph.pointee.bitmap
            let bw = Int(bitmap.width), bh = Int(bitmap.rows), pitch = Int(bitmap.pitch)
            guard bw > 0, bh > 0, let buffer = bitmap.buffer else { return }
            let margin = max(w, h) / 14
            let tw = w - 2 * margin, th = h - 2 * margin
            for ty in 0..<th {
                for tx in 0..<tw {
                    let sx = tx * bw / tw, sy = ty * bh / th
                    let a = buffer[sy * pitch + sx]
                    if a > 0 { plot(x + margin + tx, y + margin + ty, a) }
                }
            }
        }

        func png() -> [UInt8] {
            var rgb = [UInt8](repeating: 0, count: size * size * 3)
            for i in 0..<(size * size) {
                rgb[3 * i] = SealImage.ink.0
                rgb[3 * i + 1] = SealImage.ink.1
                rgb[3 * i + 2] = SealImage.ink.2
            }
            return PNGImage.encode(width: size, height: size, colorComponents: 3, pixels: rgb, alpha: alpha)
        }
    }
}
