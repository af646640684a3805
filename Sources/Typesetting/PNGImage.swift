internal import KofuZlib

/// Why a PNG was refused. `code` is stable (logged, counted, matched by the sync feed's error
/// reports); `detail` is for people and may change.
public struct PNGError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// Not a PNG: the 8-byte signature is wrong.
        case signature = "PNG_SIGNATURE"
        /// A chunk's CRC does not match its type and data.
        case crc = "PNG_CRC"
        /// IHDR missing, misplaced or with invalid fields (size, bit depth / colour type pair…).
        case header = "PNG_IHDR"
        /// Valid PNG using something this decoder does not implement (an unknown critical chunk).
        case unsupported = "PNG_UNSUPPORTED"
        /// Over a `PNGLimits` bound: file size, dimensions, pixel count, or image data that
        /// inflates beyond what IHDR implies (a zlib bomb).
        case tooLarge = "PNG_TOO_LARGE"
        /// Structurally wrong image data: bad zlib stream, wrong length, filter type, chunk order.
        case data = "PNG_DATA"
        /// The file ends in the middle of a chunk or before IEND.
        case truncated = "PNG_TRUNCATED"
    }
    public let code: Code
    public let detail: String

    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

/// Bounds checked before anything proportional to the image is allocated.
public struct PNGLimits: Sendable, Equatable {
    public var maxWidth: Int
    public var maxHeight: Int
    public var maxPixels: Int
    /// Size of the PNG file itself; the sync feed refuses larger seal images anyway.
    public var maxInputBytes: Int

    public init(maxWidth: Int = 8192, maxHeight: Int = 8192, maxPixels: Int = 16_777_216, maxInputBytes: Int = 512 * 1024) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxPixels = maxPixels
        self.maxInputBytes = maxInputBytes
    }

    public static let `default` = PNGLimits()
}

/// A decoded PNG: 8-bit samples, the colour separated from the alpha channel as PDF wants them
/// (an image and its soft mask).
///
/// Decodes every valid PNG (ISO/IEC 15948): colour types 0, 2, 3, 4, 6 at every bit depth the
/// standard allows, non-interlaced and Adam7. Palettes become RGB, tRNS becomes an alpha channel,
/// 16-bit samples are rounded to 8 bits and 1/2/4-bit gray is scaled to 0…255. Hostile input is
/// bounded by `PNGLimits`: dimensions are refused from IHDR before any allocation and the image
/// data is inflated to at most the size IHDR implies. Every malformation is a `PNGError`.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    /// 1 gray, 3 RGB.
    public let colorComponents: Int
    /// 8-bit samples, row-major, `colorComponents` per pixel, no filter bytes.
    public let pixels: [UInt8]
    /// 8-bit, one per pixel; nil when the PNG has no alpha (channel or tRNS) or every pixel is opaque.
    public let alpha: [UInt8]?
    /// pHYs in pixels per metre, when the PNG gives it in metres.
    let pixelsPerMetre: (x: UInt32, y: UInt32)?

    public init(width: Int, height: Int, colorComponents: Int, pixels: [UInt8], alpha: [UInt8]?,
                physicalDPI: (x: Double, y: Double)? = nil) {
        self.width = width
        self.height = height
        self.colorComponents = colorComponents
        self.pixels = pixels
        self.alpha = alpha
        self.pixelsPerMetre = physicalDPI.map { (UInt32(($0.x / 0.0254).rounded()), UInt32(($0.y / 0.0254).rounded())) }
    }

    /// Resolution from pHYs (unit: metre), in dots per inch; nil without pHYs or with unit "unknown".
    public var physicalDPI: (x: Double, y: Double)? {
        pixelsPerMetre.map { (Double($0.x) * 0.0254, Double($0.y) * 0.0254) }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Adam7 passes: x start, y start, x step, y step.
    static let adam7: [(x: Int, y: Int, dx: Int, dy: Int)] = [
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    ]

    // MARK: - Decoding

    struct Header {
        var width = 0, height = 0, bitDepth = 0, colorType = 0, interlaced = false
        var channels: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]! }
        var bitsPerPixel: Int { channels * bitDepth }
        /// Bytes per complete pixel, at least 1: the filters' "bpp".
        var filterStride: Int { max(1, bitsPerPixel / 8) }
        func rowBytes(_ w: Int) -> Int { (w * bitsPerPixel + 7) / 8 }
    }

    public static func decode(_ data: [UInt8], limits: PNGLimits = .default) throws(PNGError) -> PNGImage {
        guard data.count <= limits.maxInputBytes else {
            throw PNGError(code: .tooLarge, detail: "file of \(data.count) bytes, limit \(limits.maxInputBytes)")
        }
        guard data.count >= 8, data[0..<8].elementsEqual(signature) else {
            throw PNGError(code: .signature, detail: "not a PNG file (bad signature)")
        }
        func u32(_ at: Int) -> UInt32 {
            UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
        }

        var header: Header?
        var palette: [UInt8]?            // RGB triples
        var transparency: [UInt8]?       // tRNS body
        var pixelsPerMetre: (x: UInt32, y: UInt32)?
        var idat: [UInt8] = []
        var sawIDAT = false, idatEnded = false, sawIEND = false
        var offset = 8

        while !sawIEND {
            guard data.count - offset >= 12 else {
                throw PNGError(code: .truncated, detail: offset == data.count ? "file ends before IEND" : "chunk header at byte \(offset) cut short")
            }
            let length = u32(offset)
            guard length <= 0x7FFF_FFFF else { throw PNGError(code: .data, detail: "chunk length \(length) at byte \(offset)") }
            let bodyStart = offset + 8, bodyEnd = bodyStart + Int(length)
            guard data.count - offset - 12 >= Int(length) else {
                throw PNGError(code: .truncated, detail: "chunk at byte \(offset) claims \(length) bytes, file ends first")
            }
            let type = data[(offset + 4)..<bodyStart]
            let name = String(decoding: type, as: UTF8.self)
            guard type.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                throw PNGError(code: .data, detail: "invalid chunk type at byte \(offset)")
            }
            guard Zlib.crc32(data[(offset + 4)..<bodyEnd]) == u32(bodyEnd) else {
                throw PNGError(code: .crc, detail: "chunk \(name) at byte \(offset)")
            }
            let body = data[bodyStart..<bodyEnd]
            if header == nil && name != "IHDR" {
                throw PNGError(code: .header, detail: "first chunk is \(name), IHDR must come first")
            }
            if sawIDAT && name != "IDAT" { idatEnded = true }

            switch name {
            case "IHDR":
                guard header == nil else { throw PNGError(code: .header, detail: "second IHDR") }
                header = try parseHeader(body, limits: limits)
            case "PLTE":
                guard palette == nil else { throw PNGError(code: .data, detail: "second PLTE") }
                guard !sawIDAT else { throw PNGError(code: .data, detail: "PLTE after IDAT") }
                guard header!.colorType != 0 && header!.colorType != 4 else {
                    throw PNGError(code: .data, detail: "PLTE in a gray image (colour type \(header!.colorType))")
                }
                guard length > 0, length % 3 == 0, length <= 768 else {
                    throw PNGError(code: .data, detail: "PLTE of \(length) bytes")
                }
                if header!.colorType == 3 && Int(length / 3) > 1 << header!.bitDepth {
                    throw PNGError(code: .data, detail: "PLTE of \(length / 3) entries for bit depth \(header!.bitDepth)")
                }
                guard transparency == nil else { throw PNGError(code: .data, detail: "tRNS before PLTE") }
                palette = Array(body)
            case "IDAT":
                guard !idatEnded else { throw PNGError(code: .data, detail: "IDAT chunks not contiguous") }
                if header!.colorType == 3 && palette == nil {
                    throw PNGError(code: .data, detail: "palette image without PLTE before IDAT")
                }
                sawIDAT = true
                // Bounded by maxInputBytes: the sum of IDAT bodies is smaller than the file.
                idat.append(contentsOf: body)
            case "IEND":
                guard length == 0 else { throw PNGError(code: .data, detail: "IEND with \(length) bytes of data") }
                sawIEND = true
            case "tRNS":
                guard transparency == nil else { throw PNGError(code: .data, detail: "second tRNS") }
                guard !sawIDAT else { throw PNGError(code: .data, detail: "tRNS after IDAT") }
                switch header!.colorType {
                case 0: guard length == 2 else { throw PNGError(code: .data, detail: "gray tRNS of \(length) bytes") }
                case 2: guard length == 6 else { throw PNGError(code: .data, detail: "RGB tRNS of \(length) bytes") }
                case 3:
                    guard let palette else { throw PNGError(code: .data, detail: "tRNS before PLTE") }
                    guard Int(length) <= palette.count / 3 else {
                        throw PNGError(code: .data, detail: "tRNS of \(length) entries for a palette of \(palette.count / 3)")
                    }
                default: throw PNGError(code: .data, detail: "tRNS in an image with an alpha channel")
                }
                transparency = Array(body)
            case "pHYs":
                // Ancillary: a malformed or misplaced one is ignored, as unknown ancillary chunks are.
                if length == 9 && !sawIDAT && body[body.startIndex + 8] == 1 {
                    let x = u32(bodyStart), y = u32(bodyStart + 4)
                    if x > 0 && y > 0 { pixelsPerMetre = (x, y) }
                }
            default:
                // Bit 5 of the first byte: 0 critical (must understand), 1 ancillary (safe to skip).
                if type.first! & 0x20 == 0 {
                    throw PNGError(code: .unsupported, detail: "unknown critical chunk \(name)")
                }
            }
            offset = bodyEnd + 4
        }
        guard offset == data.count else { throw PNGError(code: .data, detail: "\(data.count - offset) bytes after IEND") }
        guard sawIDAT else { throw PNGError(code: .data, detail: "no IDAT chunk") }
        let h = header!

        // The exact inflated size, from IHDR alone; the dimensions are already bounded.
        var expected = 0
        for pass in passes(h) { expected += (h.rowBytes(pass.w) + 1) * pass.h }
        let raw: [UInt8]
        do {
            raw = try Zlib.inflate(idat, maxOutput: expected)
        } catch {
            if error.code == .tooLarge {
                throw PNGError(code: .tooLarge, detail: "image data inflates beyond the \(expected) bytes IHDR implies")
            }
            throw PNGError(code: .data, detail: "image data is not a valid zlib stream (\(error))")
        }
        guard raw.count == expected else {
            throw PNGError(code: .data, detail: "image data inflates to \(raw.count) bytes, \(expected) expected")
        }
        return try convert(raw, header: h, palette: palette, transparency: transparency, pixelsPerMetre: pixelsPerMetre)
    }

    static func parseHeader(_ body: ArraySlice<UInt8>, limits: PNGLimits) throws(PNGError) -> Header {
        guard body.count == 13 else { throw PNGError(code: .header, detail: "IHDR of \(body.count) bytes, 13 expected") }
        let b = Array(body)
        let width = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        let height = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
        guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw PNGError(code: .header, detail: "invalid size \(width)×\(height)")
        }
        // Before anything else: a 60000×60000 claim costs nothing.
        guard width <= limits.maxWidth, height <= limits.maxHeight, width * height <= limits.maxPixels else {
            throw PNGError(code: .tooLarge, detail: "\(width)×\(height) pixels, limits \(limits.maxWidth)×\(limits.maxHeight) and \(limits.maxPixels) pixels")
        }
        let bitDepth = Int(b[8]), colorType = Int(b[9])
        let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowed[colorType] else { throw PNGError(code: .header, detail: "invalid colour type \(colorType)") }
        guard depths.contains(bitDepth) else {
            throw PNGError(code: .header, detail: "bit depth \(bitDepth) is invalid for colour type \(colorType) (allowed: \(depths.map(String.init).joined(separator: ", ")))")
        }
        guard b[10] == 0 else { throw PNGError(code: .header, detail: "unknown compression method \(b[10])") }
        guard b[11] == 0 else { throw PNGError(code: .header, detail: "unknown filter method \(b[11])") }
        guard b[12] <= 1 else { throw PNGError(code: .header, detail: "unknown interlace method \(b[12])") }
        let h = Header(width: width, height: height, bitDepth: bitDepth, colorType: colorType, interlaced: b[12] == 1)
        // Overflow cannot happen with sane limits, but limits are the caller's: check anyway.
        let (bytes, overflow) = h.rowBytes(1).multipliedReportingOverflow(by: width * height)
        guard !overflow, bytes <= 1 << 40 else { throw PNGError(code: .tooLarge, detail: "\(width)×\(height) pixels") }
        return h
    }

    /// The sub-images in the order they are stored: one for a non-interlaced image, up to seven
    /// for Adam7 (empty passes are omitted: they have no bytes at all, not even filter bytes).
    static func passes(_ h: Header) -> [(x: Int, y: Int, dx: Int, dy: Int, w: Int, h: Int)] {
        guard h.interlaced else { return [(0, 0, 1, 1, h.width, h.height)] }
        return adam7.compactMap { p in
            let w = h.width > p.x ? (h.width - p.x + p.dx - 1) / p.dx : 0
            let ht = h.height > p.y ? (h.height - p.y + p.dy - 1) / p.dy : 0
            return w > 0 && ht > 0 ? (p.x, p.y, p.dx, p.dy, w, ht) : nil
        }
    }

    /// Reverses the five filters of one sub-image in place. `start` is its first filter byte.
    static func unfilter(_ raw: inout [UInt8], start: Int, rowBytes: Int, rows: Int, bpp: Int) throws(PNGError) {
        let stride = rowBytes + 1
        let bad: Int? = raw.withUnsafeMutableBufferPointer { buf -> Int? in
            for y in 0..<rows {
                let row = start + y * stride + 1, prior = row - stride
                let filter = buf[row - 1]
                switch filter {
                case 0: break
                case 1:
                    if rowBytes > bpp { for x in bpp..<rowBytes { buf[row + x] &+= buf[row + x - bpp] } }
                case 2:
                    if y > 0 { for x in 0..<rowBytes { buf[row + x] &+= buf[prior + x] } }
                case 3:
                    for x in 0..<rowBytes {
                        let a = x >= bpp ? Int(buf[row + x - bpp]) : 0
                        let b = y > 0 ? Int(buf[prior + x]) : 0
                        buf[row + x] &+= UInt8((a + b) >> 1)
                    }
                case 4:
                    for x in 0..<rowBytes {
                        let a = x >= bpp ? Int(buf[row + x - bpp]) : 0
                        let b = y > 0 ? Int(buf[prior + x]) : 0
                        let c = x >= bpp && y > 0 ? Int(buf[prior + x - bpp]) : 0
                        buf[row + x] &+= UInt8(paeth(a, b, c))
                    }
                default: return y
                }
            }
            return nil
        }
        if let bad { throw PNGError(code: .data, detail: "filter type \(raw[start + bad * stride]) in row \(bad)") }
    }

    @inline(__always) static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// Unfilters every pass and converts the samples to 8-bit colour plus alpha.
    static func convert(_ raw: [UInt8], header h: Header, palette: [UInt8]?, transparency: [UInt8]?,
                        pixelsPerMetre: (x: UInt32, y: UInt32)?) throws(PNGError) -> PNGImage {
        var raw = raw
        let components = (h.colorType == 2 || h.colorType == 3 || h.colorType == 6) ? 3 : 1
        let hasAlpha = h.colorType == 4 || h.colorType == 6 || transparency != nil
        var pixels = [UInt8](repeating: 0, count: h.width * h.height * components)
        var alpha = [UInt8](repeating: 255, count: hasAlpha ? h.width * h.height : 0)
        let depth = h.bitDepth, channels = h.channels
        let maxSample = (1 << depth) - 1
        // tRNS for gray / RGB: the one colour (compared at full depth) that is transparent.
        var key: [Int]?
        if let t = transparency, h.colorType == 0 || h.colorType == 2 {
            key = stride(from: 0, to: t.count, by: 2).map { (Int(t[$0]) << 8 | Int(t[$0 + 1])) & maxSample }
        }
        // Palette as RGBA, 256 entries; indexes past the PLTE are refused below.
        let paletteCount = (palette?.count ?? 0) / 3
        var rgba = [UInt8](repeating: 255, count: 256 * 4)
        if let palette {
            for i in 0..<paletteCount {
                rgba[4 * i] = palette[3 * i]; rgba[4 * i + 1] = palette[3 * i + 1]; rgba[4 * i + 2] = palette[3 * i + 2]
                if let t = transparency, i < t.count { rgba[4 * i + 3] = t[i] }
            }
        }

        var start = 0
        for pass in passes(h) {
            let rowBytes = h.rowBytes(pass.w)
            try unfilter(&raw, start: start, rowBytes: rowBytes, rows: pass.h, bpp: h.filterStride)
            var badIndex: Int?
            raw.withUnsafeBufferPointer { buf in
                @inline(__always) func sample(_ row: Int, _ index: Int) -> Int {
                    switch depth {
                    case 8: return Int(buf[row + index])
                    case 16: return Int(buf[row + 2 * index]) << 8 | Int(buf[row + 2 * index + 1])
                    default:
                        let bit = index * depth
                        return Int(buf[row + bit >> 3] >> (8 - depth - bit & 7)) & maxSample
                    }
                }
                @inline(__always) func to8(_ v: Int) -> UInt8 {
                    switch depth {
                    case 8: return UInt8(v)
                    case 16: return UInt8((v * 255 + 32767) / 65535)
                    default: return UInt8(v * 255 / maxSample)
                    }
                }
                for py in 0..<pass.h {
                    let row = start + py * (rowBytes + 1) + 1
                    let y = pass.y + py * pass.dy
                    for px in 0..<pass.w {
                        let i = y * h.width + pass.x + px * pass.dx
                        let s = px * channels
                        switch h.colorType {
                        case 3:
                            let index = sample(row, s)
                            if index >= paletteCount { badIndex = index; return }
                            pixels[3 * i] = rgba[4 * index]; pixels[3 * i + 1] = rgba[4 * index + 1]; pixels[3 * i + 2] = rgba[4 * index + 2]
                            if hasAlpha { alpha[i] = rgba[4 * index + 3] }
                        case 0:
                            let g = sample(row, s)
                            pixels[i] = to8(g)
                            if let key, g == key[0] { alpha[i] = 0 }
                        case 2:
                            let r = sample(row, s), g = sample(row, s + 1), b = sample(row, s + 2)
                            pixels[3 * i] = to8(r); pixels[3 * i + 1] = to8(g); pixels[3 * i + 2] = to8(b)
                            if let key, r == key[0], g == key[1], b == key[2] { alpha[i] = 0 }
                        case 4:
                            pixels[i] = to8(sample(row, s))
                            alpha[i] = to8(sample(row, s + 1))
                        default:  // 6
                            pixels[3 * i] = to8(sample(row, s)); pixels[3 * i + 1] = to8(sample(row, s + 1))
                            pixels[3 * i + 2] = to8(sample(row, s + 2))
                            alpha[i] = to8(sample(row, s + 3))
                        }
                    }
                }
            }
            if let badIndex { throw PNGError(code: .data, detail: "palette index \(badIndex) past the \(paletteCount) PLTE entries") }
            start += (rowBytes + 1) * pass.h
        }
        let opaque = alpha.allSatisfy { $0 == 255 }
        return PNGImage(width: h.width, height: h.height, colorComponents: components, pixels: pixels,
                        alpha: hasAlpha && !opaque ? alpha : nil, pixelsPerMetre: pixelsPerMetre)
    }

    init(width: Int, height: Int, colorComponents: Int, pixels: [UInt8], alpha: [UInt8]?,
         pixelsPerMetre: (x: UInt32, y: UInt32)?) {
        self.width = width
        self.height = height
        self.colorComponents = colorComponents
        self.pixels = pixels
        self.alpha = alpha
        self.pixelsPerMetre = pixelsPerMetre
    }

    // MARK: - Encoding

    /// A PNG of these 8-bit samples: colour type 0/2 without `alpha`, 4/6 with it, non-interlaced,
    /// each row filtered with whichever of the five filters gives the smallest sum of absolute
    /// differences (the usual heuristic), deflated at level 9. Deterministic. `physicalDPI`
    /// adds a pHYs chunk. Invalid arguments are programming errors (precondition).
    public static func encode(width: Int, height: Int, colorComponents: Int, pixels: [UInt8], alpha: [UInt8]?,
                              physicalDPI: Double? = nil) -> [UInt8] {
        precondition(colorComponents == 1 || colorComponents == 3, "colorComponents must be 1 or 3")
        precondition(width > 0 && height > 0 && width <= 0x7FFF_FFFF && height <= 0x7FFF_FFFF, "invalid PNG size")
        precondition(pixels.count == width * height * colorComponents, "pixels: \(pixels.count) samples for \(width)×\(height)×\(colorComponents)")
        precondition(alpha == nil || alpha!.count == width * height, "alpha: one sample per pixel")
        let channels = colorComponents + (alpha == nil ? 0 : 1)
        let rowBytes = width * channels

        // Interleave, then filter row by row.
        var plain = [UInt8](repeating: 0, count: rowBytes * height)
        for i in 0..<(width * height) {
            for c in 0..<colorComponents { plain[i * channels + c] = pixels[i * colorComponents + c] }
            if let alpha { plain[i * channels + colorComponents] = alpha[i] }
        }
        var filtered = [UInt8]()
        filtered.reserveCapacity((rowBytes + 1) * height)
        var candidate = [UInt8](repeating: 0, count: rowBytes)
        var best = [UInt8](repeating: 0, count: rowBytes)
        for y in 0..<height {
            let row = y * rowBytes, prior = row - rowBytes
            var bestFilter: UInt8 = 0, bestCost = Int.max
            for filter in UInt8(0)...4 {
                var cost = 0
                for x in 0..<rowBytes {
                    let a = x >= channels ? Int(plain[row + x - channels]) : 0
                    let b = y > 0 ? Int(plain[prior + x]) : 0
                    let c = x >= channels && y > 0 ? Int(plain[prior + x - channels]) : 0
                    let predictor: Int
                    switch filter {
                    case 0: predictor = 0
                    case 1: predictor = a
                    case 2: predictor = b
                    case 3: predictor = (a + b) >> 1
                    default: predictor = paeth(a, b, c)
                    }
                    let v = UInt8(truncatingIfNeeded: Int(plain[row + x]) - predictor)
                    candidate[x] = v
                    cost += v < 128 ? Int(v) : 256 - Int(v)
                }
                if cost < bestCost { bestCost = cost; bestFilter = filter; swap(&candidate, &best) }
            }
            filtered.append(bestFilter)
            filtered.append(contentsOf: best)
        }

        var out = signature
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: ArraySlice<UInt8>) {
            out += be32(UInt32(body.count))
            let typed = Array(type.utf8) + body
            out += typed
            out += be32(Zlib.crc32(typed))
        }
        let colorType: UInt8 = colorComponents == 1 ? (alpha == nil ? 0 : 4) : (alpha == nil ? 2 : 6)
        chunk("IHDR", ArraySlice(be32(UInt32(width)) + be32(UInt32(height)) + [8, colorType, 0, 0, 0]))
        if let dpi = physicalDPI, dpi > 0 {
            let ppm = be32(UInt32((dpi / 0.0254).rounded()))
            chunk("pHYs", ArraySlice(ppm + ppm + [1]))
        }
        let compressed = Zlib.deflate(filtered, level: 9)
        let idatSize = 256 * 1024
        for start in stride(from: 0, to: compressed.count, by: idatSize) {
            chunk("IDAT", compressed[start..<min(start + idatSize, compressed.count)])
        }
        chunk("IEND", [])
        return out
    }
}
