internal import KofuZlib

public struct PNGError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case signature = "PNG_SIGNATURE", crc = "PNG_CRC", header = "PNG_IHDR", unsupported = "PNG_UNSUPPORTED"
        case tooLarge = "PNG_TOO_LARGE", data = "PNG_DATA", truncated = "PNG_TRUNCATED"
    }
    public let code: Code
    public let detail: String
    public var description: String { "\(code.rawValue): \(detail)" }
}

public struct PNGLimits: Sendable {
    public var maxWidth = 8192
    public var maxHeight = 8192
    public var maxPixels = 16_777_216
    public var maxInputBytes = 512 * 1024
    public static let `default` = PNGLimits()
}

/// A decoded PNG: 8-bit samples, the colour separated from the alpha channel as PDF wants them
/// (an image and its soft mask). Accepts what the sync feed accepts: bit depth 8, gray or RGB,
/// with or without alpha, non-interlaced. Every size is checked before anything is allocated.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    /// 1 gray, 3 RGB.
    public let colorComponents: Int
    public let pixels: [UInt8]
    /// Nil when the PNG has no alpha channel or every pixel is opaque.
    public let alpha: [UInt8]?

    public init(width: Int, height: Int, colorComponents: Int, pixels: [UInt8], alpha: [UInt8]?) {
        self.width = width
        self.height = height
        self.colorComponents = colorComponents
        self.pixels = pixels
        self.alpha = alpha
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func decode(_ data: [UInt8], limits: PNGLimits = .default) throws(PNGError) -> PNGImage {
        guard data.count <= limits.maxInputBytes else { throw PNGError(code: .tooLarge, detail: "file over \(limits.maxInputBytes) bytes") }
        guard data.count >= 8, Array(data[0..<8]) == signature else { throw PNGError(code: .signature, detail: "not a PNG") }
        var offset = 8
        var width = 0, height = 0, colorType = -1
        var idat: [UInt8] = []
        var sawIEND = false, sawIDAT = false, idatEnded = false
        func u32(_ at: Int) -> Int {
            Int(data[at]) << 24 | Int(data[at + 1]) << 16 | Int(data[at + 2]) << 8 | Int(data[at + 3])
        }
        while !sawIEND {
            guard offset + 12 <= data.count else { throw PNGError(code: .truncated, detail: "chunk header at byte \(offset)") }
            let length = u32(offset)
            guard length <= data.count - offset - 12 else { throw PNGError(code: .truncated, detail: "chunk at byte \(offset)") }
            let type = Array(data[(offset + 4)..<(offset + 8)])
            let body = data[(offset + 8)..<(offset + 8 + length)]
            let crc = UInt32(u32(offset + 8 + length))
            guard Zlib.crc32(data[(offset + 4)..<(offset + 8 + length)]) == crc else {
                throw PNGError(code: .crc, detail: "chunk \(String(decoding: type, as: UTF8.self)) at byte \(offset)")
            }
            let name = String(decoding: type, as: UTF8.self)
            if colorType < 0 && name != "IHDR" { throw PNGError(code: .header, detail: "IHDR must come first") }
            switch name {
            case "IHDR":
                guard colorType < 0, length == 13 else { throw PNGError(code: .header, detail: "bad IHDR") }
                let b = Array(body)
                width = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
                height = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
                guard width > 0, height > 0 else { throw PNGError(code: .header, detail: "zero size") }
                guard width <= limits.maxWidth, height <= limits.maxHeight, width * height <= limits.maxPixels else {
                    throw PNGError(code: .tooLarge, detail: "\(width)×\(height) pixels")
                }
                guard b[8] == 8 else { throw PNGError(code: .unsupported, detail: "bit depth \(b[8]); only 8 is accepted") }
                guard [0, 2, 4, 6].contains(b[9]) else { throw PNGError(code: .unsupported, detail: "colour type \(b[9])") }
                guard b[10] == 0, b[11] == 0 else { throw PNGError(code: .header, detail: "unknown compression or filter method") }
                guard b[12] == 0 else { throw PNGError(code: .unsupported, detail: "interlaced PNG") }
                colorType = Int(b[9])
            case "IDAT":
                guard !idatEnded else { throw PNGError(code: .data, detail: "IDAT chunks not contiguous") }
                sawIDAT = true
                idat.append(contentsOf: body)
            case "IEND":
                sawIEND = true
            default:
                // Ancillary chunks (lowercase first letter) are skipped; unknown critical ones refused.
                if type[0] & 0x20 == 0 { throw PNGError(code: .unsupported, detail: "critical chunk \(name)") }
            }
            if sawIDAT && name != "IDAT" { idatEnded = true }
            offset += 12 + length
        }
        guard sawIDAT else { throw PNGError(code: .data, detail: "no IDAT") }
        let channels = [0: 1, 2: 3, 4: 2, 6: 4][colorType]!
        let stride = width * channels
        let expected = (stride + 1) * height
        let raw: [UInt8]
        do {
            raw = try Zlib.inflate(idat, maxOutput: expected)
        } catch {
            throw PNGError(code: error.code == .tooLarge ? .tooLarge : .data, detail: "image data: \(error)")
        }
        guard raw.count == expected else { throw PNGError(code: .data, detail: "\(raw.count) bytes of image data, \(expected) expected") }
        let unfiltered = try unfilter(raw, stride: stride, height: height, bpp: channels)

        let colorChannels = channels >= 3 ? 3 : 1
        if channels == colorChannels {
            return PNGImage(width: width, height: height, colorComponents: colorChannels, pixels: unfiltered, alpha: nil)
        }
        var pixels = [UInt8](repeating: 0, count: width * height * colorChannels)
        var alpha = [UInt8](repeating: 0, count: width * height)
        var opaque = true
        for i in 0..<(width * height) {
            for c in 0..<colorChannels { pixels[i * colorChannels + c] = unfiltered[i * channels + c] }
            let a = unfiltered[i * channels + colorChannels]
            alpha[i] = a
            opaque = opaque && a == 255
        }
        return PNGImage(width: width, height: height, colorComponents: colorChannels, pixels: pixels, alpha: opaque ? nil : alpha)
    }

    static func unfilter(_ raw: [UInt8], stride: Int, height: Int, bpp: Int) throws(PNGError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1
            let row = y * stride
            for x in 0..<stride {
                let a = x >= bpp ? Int(out[row + x - bpp]) : 0
                let b = y > 0 ? Int(out[row - stride + x]) : 0
                let c = (x >= bpp && y > 0) ? Int(out[row - stride + x - bpp]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw PNGError(code: .data, detail: "filter type \(filter) in row \(y)")
                }
                out[row + x] = UInt8(truncatingIfNeeded: Int(raw[src + x]) + predictor)
            }
        }
        return out
    }

    /// A PNG of these samples (filter 0 rows; the seal images of the demo). `alpha` adds a channel.
    public static func encode(width: Int, height: Int, colorComponents: Int, pixels: [UInt8], alpha: [UInt8]?) -> [UInt8] {
        precondition(colorComponents == 1 || colorComponents == 3)
        let channels = colorComponents + (alpha == nil ? 0 : 1)
        var raw = [UInt8]()
        raw.reserveCapacity((width * channels + 1) * height)
        for y in 0..<height {
            raw.append(0)
            for x in 0..<width {
                let i = y * width + x
                for c in 0..<colorComponents { raw.append(pixels[i * colorComponents + c]) }
                if let alpha { raw.append(alpha[i]) }
            }
        }
        var out = signature
        func chunk(_ type: String, _ body: [UInt8]) {
            let n = UInt32(body.count)
            out += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            let typed = Array(type.utf8) + body
            out += typed
            let crc = Zlib.crc32(typed)
            out += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        }
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let colorType: UInt8 = colorComponents == 1 ? (alpha == nil ? 0 : 4) : (alpha == nil ? 2 : 6)
        chunk("IHDR", be32(width) + be32(height) + [8, colorType, 0, 0, 0])
        chunk("IDAT", Zlib.deflate(raw, level: 9))
        chunk("IEND", [])
        return out
    }
}
