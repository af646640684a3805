import Foundation
@testable import KofuTesting
import KofuZlib
import Testing
@testable import Typesetting

/// The test pattern every fixture carries, at the fixture's bit depth: half hash noise (so that
/// no filter can be undone by accident), half slow ramps (so that Paeth's ties happen).
/// The Python writer below computes exactly the same values.
func pngTestSample(_ x: Int, _ y: Int, _ c: Int, depth: Int) -> Int {
    let modulus = 1 << depth
    if (x + y) % 3 == 0 {
        var h = UInt32(truncatingIfNeeded: x) &* 73_856_093 ^ UInt32(truncatingIfNeeded: y) &* 19_349_663
            ^ UInt32(truncatingIfNeeded: c) &* 83_492_791
        h = h &* 2_654_435_761
        return Int(h >> 7) % modulus
    }
    return ((x / 3) * 5 + (y / 2) * 3 + c * 7) % modulus
}

/// One PNG for the independent (Python) writer to produce.
struct PNGFixture: Codable, CustomStringConvertible {
    var colorType: Int
    var depth: Int
    var width: Int
    var height: Int
    var interlace = 0
    var trns = false
    var phys = false
    var description: String { "ct\(colorType) d\(depth) \(width)×\(height)\(interlace == 1 ? " Adam7" : "")\(trns ? " tRNS" : "")" }

    var channels: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]! }
    var paletteSize: Int { min(1 << depth, 200) }
    /// Palette entry i (RGB), and tRNS alpha for the first entries.
    static func paletteEntry(_ i: Int) -> [UInt8] { [UInt8(i * 7 % 256), UInt8(i * 13 % 256), UInt8(255 - i)] }
    static let paletteAlpha: [UInt8] = [0, 64, 128, 200]

    /// What a correct decoder must return, derived from the PNG specification independently of
    /// the decoder: palettes expanded, tRNS applied, samples scaled to 8 bits.
    func expected() -> (components: Int, pixels: [UInt8], alpha: [UInt8]?) {
        let maxValue = (1 << depth) - 1
        func to8(_ v: Int) -> UInt8 {
            depth == 16 ? UInt8((Double(v) * 255 / 65535).rounded()) : UInt8(v * 255 / maxValue)
        }
        let components = colorType == 0 || colorType == 4 ? 1 : 3
        var pixels: [UInt8] = [], alpha: [UInt8] = []
        let key = (0..<channels).map { pngTestSample(1, 0, $0, depth: depth) }
        for y in 0..<height {
            for x in 0..<width {
                let samples = (0..<channels).map { pngTestSample(x, y, $0, depth: depth) }
                switch colorType {
                case 3:
                    let index = samples[0] % paletteSize
                    pixels += Self.paletteEntry(index)
                    alpha.append(trns && index < Self.paletteAlpha.count ? Self.paletteAlpha[index] : 255)
                case 0, 2:
                    pixels += samples.map(to8)
                    alpha.append(trns && samples == key ? 0 : 255)
                default:
                    pixels += samples.dropLast().map(to8)
                    alpha.append(to8(samples.last!))
                }
            }
        }
        return (components, pixels, alpha.allSatisfy { $0 == 255 } ? nil : alpha)
    }
}

/// An independent PNG writer (Python's zlib and struct only) and an independent reader of
/// kofu's own output, so that neither direction relies on the code under test.
let pngPythonScript = #"""
import json, struct, sys, zlib

def sample(x, y, c, depth):
    m = 1 << depth
    if (x + y) % 3 == 0:
        h = ((x * 73856093) & 0xFFFFFFFF) ^ ((y * 19349663) & 0xFFFFFFFF) ^ ((c * 83492791) & 0xFFFFFFFF)
        h = (h * 2654435761) & 0xFFFFFFFF
        return (h >> 7) % m
    return ((x // 3) * 5 + (y // 2) * 3 + c * 7) % m

def chunk(t, body):
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c

def pack_row(values, depth):
    if depth == 8:
        return bytes(values)
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    out, acc, nbits = bytearray(), 0, 0
    for v in values:
        acc = (acc << depth) | v
        nbits += depth
        if nbits == 8:
            out.append(acc); acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)

def filter_rows(rows, bpp, first_filter):
    out, prior = bytearray(), bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        f = (i + first_filter) % 5
        out.append(f)
        for x in range(len(row)):
            a = row[x - bpp] if x >= bpp else 0
            b = prior[x]
            c = prior[x - bpp] if x >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            out.append((row[x] - pred) & 0xFF)
        prior = row
    return bytes(out)

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

def write(spec, path):
    ct, depth, w, h = spec["colorType"], spec["depth"], spec["width"], spec["height"]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
    bpp = max(1, channels * depth // 8)
    passes = [(0, 0, 1, 1)] if spec["interlace"] == 0 else ADAM7
    data = b""
    for n, (x0, y0, dx, dy) in enumerate(passes):
        xs, ys = list(range(x0, w, dx)), list(range(y0, h, dy))
        if not xs or not ys:
            continue
        modulus = min(1 << depth, 200) if ct == 3 else 1 << depth    # palette indexes stay in the PLTE
        rows = [pack_row([sample(x, y, c, depth) % modulus for x in xs for c in range(channels)], depth) for y in ys]
        data += filter_rows(rows, bpp, n)
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ct, 0, 0, spec["interlace"]))
    png += chunk(b"vpAg", b"\x00\x01\x02")                      # unknown ancillary: skipped
    if spec["phys"]:
        png += chunk(b"pHYs", struct.pack(">IIB", 11811, 5906, 1))   # 300 × 150 dpi
    if ct == 3:
        size = min(1 << depth, 200)
        png += chunk(b"PLTE", b"".join(bytes([i * 7 % 256, i * 13 % 256, 255 - i]) for i in range(size)))
        if spec["trns"]:
            png += chunk(b"tRNS", bytes([0, 64, 128, 200][:size]))
    elif spec["trns"]:
        png += chunk(b"tRNS", b"".join(struct.pack(">H", sample(1, 0, c, depth)) for c in range(channels)))
    compressed = zlib.compress(data, 9)
    for i in range(0, len(compressed), 7):                        # many small IDAT chunks
        png += chunk(b"IDAT", compressed[i:i + 7])
    png += chunk(b"tEXt", b"Comment\x00after the image data")
    png += chunk(b"IEND", b"")
    open(path, "wb").write(png)

def read(path, out):
    # A minimal reader for 8-bit non-interlaced PNGs: checks every CRC, unfilters, writes samples.
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
    pos, idat, ihdr, filters = 8, b"", None, set()
    while True:
        length, = struct.unpack(">I", data[pos:pos + 4])
        t, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(t + body) & 0xFFFFFFFF, "crc of " + t.decode()
        pos += 12 + length
        if t == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
        if t == b"IDAT": idat += body
        if t == b"IEND": break
    assert pos == len(data), "bytes after IEND"
    w, h, depth, ct, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ct]
    raw, stride = zlib.decompress(idat), w * bpp
    assert len(raw) == (stride + 1) * h, "length"
    prior, result = bytearray(stride), bytearray()
    for y in range(h):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        filters.add(f)
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b, c = prior[x], prior[x - bpp] if x >= bpp else 0
            row[x] = (row[x] + [0, a, b, (a + b) // 2, paeth(a, b, c)][f]) & 0xFF
        result += row
        prior = row
    open(out, "wb").write(bytes(result))
    print(json.dumps({"colorType": ct, "filters": sorted(filters)}))

if sys.argv[1] == "write":
    for i, spec in enumerate(json.loads(open(sys.argv[2]).read())):
        write(spec, "%s/%d.png" % (sys.argv[3], i))
else:
    read(sys.argv[2], sys.argv[3])
"""#

/// Where two sample arrays first differ, for readable failures (nil when equal).
func firstDifference(_ a: [UInt8]?, _ b: [UInt8]?) -> String? {
    guard let a, let b else { return a == nil && b == nil ? nil : "one is nil: \(a == nil ? "decoded" : "expected")" }
    guard a.count == b.count else { return "\(a.count) samples, \(b.count) expected" }
    return a.indices.first { a[$0] != b[$0] }.map { "sample \($0): \(a[$0]), \(b[$0]) expected" }
}

enum PNGTestSupport {
    static func python(_ arguments: [String]) throws -> String {
        let result = try Tools.run("/usr/bin/python3", ["-c", pngPythonScript] + arguments)
        guard result.status == 0 else { throw PNGError(code: .data, detail: "python3 failed: \(result.stderr)") }
        return result.stdout
    }

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "kofu-png-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Has the Python writer produce `fixtures`; returns their bytes in order.
    static func write(_ fixtures: [PNGFixture]) throws -> [[UInt8]] {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let specs = dir + "/specs.json"
        try JSONEncoder().encode(fixtures).write(to: URL(fileURLWithPath: specs))
        _ = try python(["write", specs, dir])
        return try fixtures.indices.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0).png"))) }
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ body: [UInt8], crc: UInt32? = nil) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc ?? Zlib.crc32(typed))
    }

    static func ihdr(_ width: UInt32, _ height: UInt32, depth: UInt8 = 8, colorType: UInt8 = 0, interlace: UInt8 = 0) -> [UInt8] {
        chunk("IHDR", be32(width) + be32(height) + [depth, colorType, 0, 0, interlace])
    }

    /// A hand-built PNG from chunks, each written with a correct CRC.
    static func png(_ chunks: [[UInt8]]) -> [UInt8] { PNGImage.signature + chunks.joined() }

    /// A valid 4×3 gray image, filter 0 rows, for the structural tests.
    static func smallGrayIDAT() -> [UInt8] {
        let raw: [UInt8] = (0..<3).flatMap { y in [0] + (0..<4).map { UInt8(y * 4 + $0) } }
        return chunk("IDAT", Zlib.deflate(raw))
    }

    /// Rewrites every chunk's CRC (for mutations that must get past the CRC check).
    static func fixCRCs(_ data: inout [UInt8]) {
        var offset = 8
        while offset + 12 <= data.count {
            let length = Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
            guard length <= data.count - offset - 12 else { return }
            let crc = be32(Zlib.crc32(data[(offset + 4)..<(offset + 8 + length)]))
            data.replaceSubrange((offset + 8 + length)..<(offset + 12 + length), with: crc)
            offset += 12 + length
        }
    }

    static func code(_ data: [UInt8], limits: PNGLimits = .default) -> PNGError.Code? {
        do {
            _ = try PNGImage.decode(data, limits: limits)
            return nil
        } catch {
            return error.code
        }
    }
}

@Suite struct PNGImageTests {
    typealias T = PNGTestSupport

    // MARK: Round trips through kofu's encoder

    @Test(arguments: [(1, false), (1, true), (3, false), (3, true)])
    func roundTrip(components: Int, withAlpha: Bool) throws {
        let (w, h) = (37, 23)
        let pixels = (0..<(w * h * components)).map { UInt8(pngTestSample($0 % (w * components), $0 / (w * components), 0, depth: 8)) }
        let alpha = withAlpha ? (0..<(w * h)).map { UInt8(pngTestSample($0 % w, $0 / w, 3, depth: 8)) } : nil
        let png = PNGImage.encode(width: w, height: h, colorComponents: components, pixels: pixels, alpha: alpha)
        let image = try PNGImage.decode(png)
        #expect(image.width == w && image.height == h && image.colorComponents == components)
        #expect(firstDifference(image.pixels, pixels) == nil)
        #expect(firstDifference(image.alpha, alpha) == nil)
        #expect(image.physicalDPI == nil)
        // The colour type in IHDR is the one the arguments ask for.
        #expect(png[25] == [1: 0, 3: 2][components]! + (withAlpha ? 4 : 0))
    }

    @Test func opaqueAlphaIsDropped() throws {
        let png = PNGImage.encode(width: 3, height: 2, colorComponents: 3, pixels: [UInt8](repeating: 9, count: 18),
                                  alpha: [UInt8](repeating: 255, count: 6))
        #expect(png[25] == 6)
        let image = try PNGImage.decode(png)
        #expect(image.alpha == nil)
        #expect(image.pixels == [UInt8](repeating: 9, count: 18))
    }

    @Test func physicalResolutionRoundTrips() throws {
        let png = PNGImage.encode(width: 2, height: 2, colorComponents: 1, pixels: [1, 2, 3, 4], alpha: nil, physicalDPI: 300)
        let dpi = try #require(try PNGImage.decode(png).physicalDPI)
        #expect(abs(dpi.x - 300) < 0.01 && abs(dpi.y - 300) < 0.01)
    }

    /// kofu's encoder read back by an independent reader (Python: CRCs, zlib, unfiltering).
    @Test(arguments: [(1, false), (1, true), (3, false), (3, true)])
    func encoderOutputReadsBackIndependently(components: Int, withAlpha: Bool) throws {
        let (w, h) = (41, 29)
        // Blank rows (filter None wins), vertical ramps (Up wins), then noise.
        func value(_ x: Int, _ y: Int, _ c: Int) -> UInt8 {
            y < 5 ? 0 : y < 15 ? UInt8(x * 3 + y + c) : UInt8(pngTestSample(x, y, c, depth: 8))
        }
        let pixels = (0..<(w * h)).flatMap { i in (0..<components).map { value(i % w, i / w, $0) } }
        let alpha = withAlpha ? (0..<(w * h)).map { value($0 % w, $0 / w, 5) } : nil
        let png = PNGImage.encode(width: w, height: h, colorComponents: components, pixels: pixels, alpha: alpha)
        let dir = try T.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(png).write(to: URL(fileURLWithPath: dir + "/in.png"))
        let report = try T.python(["read", dir + "/in.png", dir + "/out.raw"])
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/out.raw")))
        var interleaved: [UInt8] = []
        for i in 0..<(w * h) {
            interleaved += pixels[(i * components)..<((i + 1) * components)]
            if let alpha { interleaved.append(alpha[i]) }
        }
        #expect(firstDifference(raw, interleaved) == nil)
        // The adaptive filter really chooses: this image makes more than one filter win.
        let json = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any]
        let filters = try #require(json?["filters"] as? [Int])
        #expect(filters.count > 1)
    }

    // MARK: PNGs from an independent encoder

    static let colorCombinations: [(Int, Int)] = [
        (0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
        (4, 8), (4, 16), (6, 8), (6, 16),
    ]

    @Test func everyColorTypeAndDepthFromAnIndependentEncoder() throws {
        var fixtures: [PNGFixture] = []
        for (ct, depth) in Self.colorCombinations {
            for interlace in [0, 1] {
                // 17×10: odd width (partial bytes at low depths), ten rows (each filter twice).
                fixtures.append(PNGFixture(colorType: ct, depth: depth, width: 17, height: 10, interlace: interlace))
            }
        }
        fixtures.append(PNGFixture(colorType: 0, depth: 8, width: 9, height: 7, trns: true))
        fixtures.append(PNGFixture(colorType: 0, depth: 16, width: 9, height: 7, interlace: 1, trns: true))
        fixtures.append(PNGFixture(colorType: 2, depth: 8, width: 9, height: 7, trns: true))
        fixtures.append(PNGFixture(colorType: 2, depth: 16, width: 9, height: 7, trns: true))
        fixtures.append(PNGFixture(colorType: 3, depth: 8, width: 9, height: 7, trns: true))
        fixtures.append(PNGFixture(colorType: 3, depth: 2, width: 9, height: 7, interlace: 1, trns: true))
        // Adam7 with empty passes: tiny and thin images.
        for (w, h) in [(1, 1), (2, 2), (3, 9), (9, 3), (5, 1), (1, 5), (8, 8), (33, 17)] {
            fixtures.append(PNGFixture(colorType: 6, depth: 8, width: w, height: h, interlace: 1))
            fixtures.append(PNGFixture(colorType: 0, depth: 1, width: w, height: h, interlace: 1))
        }
        let files = try T.write(fixtures)
        for (fixture, file) in zip(fixtures, files) {
            let image = try PNGImage.decode(file)
            let expected = fixture.expected()
            #expect(image.width == fixture.width && image.height == fixture.height, "\(fixture)")
            #expect(image.colorComponents == expected.components, "\(fixture)")
            #expect(firstDifference(image.pixels, expected.pixels) == nil, "\(fixture)")
            #expect(firstDifference(image.alpha, expected.alpha) == nil, "\(fixture)")
            if fixture.trns { #expect(image.alpha != nil, "\(fixture): the tRNS colour occurs") }
        }
    }

    @Test func eachFilterTypeIsUndone() throws {
        // One image per filter type, every row using it, so that a wrong filter cannot hide.
        var fixtures: [PNGFixture] = []
        for depth in [8, 16] { fixtures.append(PNGFixture(colorType: 6, depth: depth, width: 31, height: 5)) }
        let files = try T.write(fixtures)
        // Rows 0…4 use filters 0…4 (the writer cycles from the pass number): check row by row.
        for (fixture, file) in zip(fixtures, files) {
            let image = try PNGImage.decode(file)
            let expected = fixture.expected()
            for row in 0..<5 {
                let range = (row * 31 * 3)..<((row + 1) * 31 * 3)
                #expect(firstDifference(Array(image.pixels[range]), Array(expected.pixels[range])) == nil, "\(fixture) row \(row) (filter \(row))")
                let alphaRange = (row * 31)..<((row + 1) * 31)
                #expect(firstDifference(image.alpha.map { Array($0[alphaRange]) }, expected.alpha.map { Array($0[alphaRange]) }) == nil,
                        "\(fixture) row \(row) (filter \(row))")
            }
        }
    }

    @Test func physicalResolutionFromPHYs() throws {
        let files = try T.write([PNGFixture(colorType: 2, depth: 8, width: 4, height: 4, phys: true),
                                 PNGFixture(colorType: 2, depth: 8, width: 4, height: 4)])
        let dpi = try #require(try PNGImage.decode(files[0]).physicalDPI)
        #expect(abs(dpi.x - 300) < 0.01 && abs(dpi.y - 150) < 0.02)
        #expect(try PNGImage.decode(files[1]).physicalDPI == nil)
    }

    // MARK: Malformed and hostile input

    @Test func everyTruncationIsRefused() throws {
        let png = PNGImage.encode(width: 8, height: 8, colorComponents: 3, pixels: (0..<192).map { UInt8($0) }, alpha: nil)
        #expect(throws: Never.self) { try PNGImage.decode(png) }
        for cut in 0..<png.count {
            #expect(T.code(Array(png[0..<cut])) == (cut < 8 ? .signature : .truncated), "cut at \(cut) of \(png.count)")
        }
    }

    @Test func badSignature() {
        var png = PNGImage.encode(width: 1, height: 1, colorComponents: 1, pixels: [0], alpha: nil)
        png[1] = UInt8(ascii: "J")
        #expect(T.code(png) == .signature)
        #expect(T.code(Array("GIF89a".utf8)) == .signature)
    }

    @Test func badCRCIsRefused() throws {
        let png = PNGImage.encode(width: 8, height: 8, colorComponents: 1, pixels: (0..<64).map { UInt8($0) }, alpha: nil)
        // IHDR data, IHDR CRC, IDAT data, IDAT CRC, IEND CRC.
        let idatLength = Int(png[33]) << 24 | Int(png[34]) << 16 | Int(png[35]) << 8 | Int(png[36])
        for position in [20, 30, 41, 41 + idatLength + 2, png.count - 1] {
            var broken = png
            broken[position] ^= 0x10
            #expect(T.code(broken) == .crc, "byte \(position)")
        }
    }

    @Test func hugeDimensionsAreRefusedFromIHDR() {
        // Nothing after IHDR at all: a decoder that waited for the data would say "truncated".
        #expect(T.code(T.png([T.ihdr(60000, 60000)])) == .tooLarge)
        #expect(T.code(T.png([T.ihdr(60000, 60000, colorType: 6), T.smallGrayIDAT(), T.chunk("IEND", [])])) == .tooLarge)
        #expect(T.code(T.png([T.ihdr(8193, 1)])) == .tooLarge)
        #expect(T.code(T.png([T.ihdr(1, 8193)])) == .tooLarge)
        #expect(T.code(T.png([T.ihdr(8192, 2049)])) == .tooLarge)  // each side fine, too many pixels
        #expect(T.code(T.png([T.ihdr(4, 3), T.smallGrayIDAT(), T.chunk("IEND", [])]), limits: PNGLimits(maxWidth: 3)) == .tooLarge)
        #expect(T.code(T.png([T.ihdr(0x8000_0000, 1)])) == .header)
        #expect(T.code(T.png([T.ihdr(0, 1)])) == .header)
    }

    @Test func oversizedFileIsRefused() {
        let png = T.png([T.ihdr(4, 3), T.smallGrayIDAT(), T.chunk("tEXt", [UInt8](repeating: 65, count: 600_000)), T.chunk("IEND", [])])
        #expect(T.code(png) == .tooLarge)
        #expect(T.code(png, limits: PNGLimits(maxInputBytes: 1 << 20)) == nil)
    }

    @Test func zlibBombIsRefused() {
        // 16×16 gray needs 272 bytes; this IDAT inflates to 64 MiB.
        let bomb = Zlib.deflate([UInt8](repeating: 0, count: 64 << 20), level: 9)
        #expect(bomb.count < 512 * 1024 - 100)
        let png = T.png([T.ihdr(16, 16), T.chunk("IDAT", bomb), T.chunk("IEND", [])])
        let start = ContinuousClock.now
        #expect(T.code(png) == .tooLarge)
        #expect(ContinuousClock.now - start < .seconds(1))
        // One byte more than IHDR implies is refused too, one byte less is wrong data.
        let exact = [UInt8](repeating: 0, count: 17 * 16)
        #expect(T.code(T.png([T.ihdr(16, 16), T.chunk("IDAT", Zlib.deflate(exact)), T.chunk("IEND", [])])) == nil)
        #expect(T.code(T.png([T.ihdr(16, 16), T.chunk("IDAT", Zlib.deflate(exact + [0])), T.chunk("IEND", [])])) == .tooLarge)
        #expect(T.code(T.png([T.ihdr(16, 16), T.chunk("IDAT", Zlib.deflate(Array(exact.dropLast()))), T.chunk("IEND", [])])) == .data)
    }

    @Test func invalidBitDepthsAndHeaderFields() {
        let body = [T.smallGrayIDAT(), T.chunk("IEND", [])]
        #expect(T.code(T.png([T.ihdr(4, 3, depth: 8)] + body)) == nil)
        for (depth, colorType) in [(4, 2), (2, 6), (1, 4), (16, 3), (3, 0), (7, 2), (32, 6), (0, 0)] as [(UInt8, UInt8)] {
            #expect(T.code(T.png([T.ihdr(4, 3, depth: depth, colorType: colorType)] + body)) == .header, "depth \(depth) type \(colorType)")
        }
        #expect(T.code(T.png([T.ihdr(4, 3, colorType: 5)] + body)) == .header)
        #expect(T.code(T.png([T.ihdr(4, 3, interlace: 2)] + body)) == .header)
        #expect(T.code(T.png([T.chunk("IHDR", T.be32(4) + T.be32(3) + [8, 0, 1, 0, 0])] + body)) == .header)  // compression
        #expect(T.code(T.png([T.chunk("IHDR", T.be32(4) + T.be32(3) + [8, 0, 0, 1, 0])] + body)) == .header)  // filter method
        #expect(T.code(T.png([T.chunk("IHDR", T.be32(4) + T.be32(3) + [8, 0, 0, 0])] + body)) == .header)     // 12 bytes
        #expect(T.code(T.png(body)) == .header)                                                              // no IHDR
        #expect(T.code(T.png([T.ihdr(4, 3), T.ihdr(4, 3)] + body)) == .header)
    }

    @Test func chunkStructure() {
        let ihdr = T.ihdr(4, 3), idat = T.smallGrayIDAT(), iend = T.chunk("IEND", [])
        #expect(T.code(T.png([ihdr, idat, iend])) == nil)
        // Unknown ancillary chunks are skipped anywhere; unknown critical ones refused.
        #expect(T.code(T.png([ihdr, T.chunk("prIv", [1, 2]), idat, T.chunk("tEXt", Array("a\0b".utf8)), iend])) == nil)
        #expect(T.code(T.png([ihdr, T.chunk("ZZZZ", []), idat, iend])) == .unsupported)
        #expect(T.code(T.png([ihdr, T.chunk("Ab1d", []), idat, iend])) == .data)
        // IDAT split in two is fine; split by another chunk is not.
        let raw: [UInt8] = (0..<3).flatMap { y in [0] + (0..<4).map { UInt8(y * 4 + $0) } }
        let z = Zlib.deflate(raw)
        let a = T.chunk("IDAT", Array(z[0..<5])), b = T.chunk("IDAT", Array(z[5...]))
        #expect(T.code(T.png([ihdr, a, b, iend])) == nil)
        #expect(T.code(T.png([ihdr, a, T.chunk("tEXt", Array("a\0b".utf8)), b, iend])) == .data)
        #expect(T.code(T.png([ihdr, iend])) == .data)                  // no IDAT
        #expect(T.code(T.png([ihdr, idat])) == .truncated)             // no IEND
        #expect(T.code(T.png([ihdr, idat, iend, [0]])) == .data)       // trailing bytes
        #expect(T.code(T.png([ihdr, idat, T.chunk("IEND", [0])])) == .data)
        // A length that points past the end of the file.
        #expect(T.code(T.png([ihdr, [0x80, 0, 0, 0] + Array("IDAT".utf8) + [UInt8](repeating: 1, count: 20)])) == .data)
        #expect(T.code(T.png([ihdr, [0, 0, 1, 0] + Array("IDAT".utf8) + [1, 2, 3]])) == .truncated)
    }

    @Test func badImageData() {
        let ihdr = T.ihdr(4, 3), iend = T.chunk("IEND", [])
        var raw: [UInt8] = (0..<3).flatMap { y in [0] + (0..<4).map { UInt8(y * 4 + $0) } }
        raw[5] = 5  // filter type 5 in row 1
        #expect(T.code(T.png([ihdr, T.chunk("IDAT", Zlib.deflate(raw)), iend])) == .data)
        #expect(T.code(T.png([ihdr, T.chunk("IDAT", [0x78, 0x9C, 0xFF, 0xFF, 0xFF]), iend])) == .data)
        var z = Zlib.deflate(raw)
        z.removeLast(6)  // a zlib stream cut short
        #expect(T.code(T.png([ihdr, T.chunk("IDAT", z), iend])) == .data)
    }

    @Test func paletteErrors() {
        let ihdr = T.ihdr(2, 1, depth: 8, colorType: 3), iend = T.chunk("IEND", [])
        let idat = T.chunk("IDAT", Zlib.deflate([0, 0, 2]))  // indexes 0 and 2
        let plte3 = T.chunk("PLTE", [UInt8](repeating: 7, count: 9))
        #expect(T.code(T.png([ihdr, plte3, idat, iend])) == nil)
        #expect(T.code(T.png([ihdr, T.chunk("PLTE", [UInt8](repeating: 7, count: 6)), idat, iend])) == .data)  // index 2 past 2 entries
        #expect(T.code(T.png([ihdr, idat, iend])) == .data)                                                   // no PLTE
        #expect(T.code(T.png([ihdr, T.chunk("PLTE", [1, 2]), idat, iend])) == .data)                        // not RGB triples
        #expect(T.code(T.png([ihdr, plte3, T.chunk("tRNS", [1, 2, 3, 4]), idat, iend])) == .data)          // tRNS longer than PLTE
        #expect(T.code(T.png([T.ihdr(2, 1, depth: 1, colorType: 3), T.chunk("PLTE", [UInt8](repeating: 7, count: 9)),
                              T.chunk("IDAT", Zlib.deflate([0, 0])), iend])) == .data)                          // 3 entries for 1 bit
        #expect(T.code(T.png([T.ihdr(4, 3), T.chunk("PLTE", [1, 2, 3]), T.smallGrayIDAT(), iend])) == .data)  // PLTE in gray
    }

    /// Random corruption, with and without repaired CRCs (to reach IHDR, zlib and the filters):
    /// always an image or a PNGError, never a crash.
    @Test func randomCorruptionNeverCrashes() throws {
        let files = try T.write([PNGFixture(colorType: 6, depth: 8, width: 12, height: 9, interlace: 1),
                                 PNGFixture(colorType: 3, depth: 4, width: 12, height: 9, trns: true),
                                 PNGFixture(colorType: 0, depth: 16, width: 5, height: 9)])
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        var decoded = 0, refused: [PNGError.Code: Int] = [:]
        for iteration in 0..<3000 {
            var data = files[iteration % files.count]
            for _ in 0..<(1 + next() % 4) {
                let position = 8 + next() % (data.count - 8)
                switch next() % 3 {
                case 0: data[position] = UInt8(next() & 0xFF)
                case 1: data[position] ^= UInt8(1 << (next() % 8))
                default: data.insert(UInt8(next() & 0xFF), at: position)
                }
            }
            if iteration % 4 != 0 { T.fixCRCs(&data) }
            do {
                let image = try PNGImage.decode(data)
                #expect(image.pixels.count == image.width * image.height * image.colorComponents)
                decoded += 1
            } catch {
                refused[error.code, default: 0] += 1
            }
        }
        // The mutations did reach past the CRC check.
        #expect((refused[.data] ?? 0) > 0)
        #expect((refused[.crc] ?? 0) > 0)
    }

    // MARK: Seal images

    static let font = Demo.baseFontPath

    @Test func officialSealLooksLikeASeal() throws {
        let png = try SealImage.officialSeal(text: "高槻市長之印", fontPath: Self.font)
        try Data(png).write(to: URL(fileURLWithPath: "/tmp/seal-official.png"))
        let image = try PNGImage.decode(png)
        #expect(image.width == 512 && image.height == 512 && image.colorComponents == 3)
        let alpha = try #require(image.alpha)
        let a = { (x: Int, y: Int) in Int(alpha[y * 512 + x]) }
        for (x, y) in [(0, 0), (511, 0), (0, 511), (511, 511)] { #expect(a(x, y) == 0, "corner \(x),\(y)") }
        // The thick border: solid ink on all four sides, a band about 512/13 wide.
        for (x, y) in [(256, 28), (256, 483), (28, 256), (483, 256)] { #expect(a(x, y) == 255, "border at \(x),\(y)") }
        #expect(a(256, 2) == 0)
        // Ink inside, in vermilion, and plenty of it (the characters fill their cells).
        let inside = (80..<432).flatMap { y in (80..<432).map { a($0, y) } }
        let inkShare = Double(inside.filter { $0 > 128 }.count) / Double(inside.count)
        #expect(inkShare > 0.2 && inkShare < 0.8)
        let i = try #require(alpha.indices.first { alpha[$0] == 255 })
        #expect(Array(image.pixels[(3 * i)..<(3 * i + 3)]) == [200, 30, 30])
    }

    @Test func officialSealColumnsReadFromTheRight() throws {
        #expect(SealImage.officialLayout(count: 6).map { [$0.column, $0.row] } == [[2, 0], [2, 1], [1, 0], [1, 1], [0, 0], [0, 1]])
        #expect(SealImage.officialLayout(count: 4).map { [$0.column, $0.row] } == [[1, 0], [1, 1], [0, 0], [0, 1]])
        #expect(SealImage.officialLayout(count: 5).map { [$0.column, $0.row, $0.rows] } == [[1, 0, 3], [1, 1, 3], [1, 2, 3], [0, 0, 2], [0, 1, 2]])
        #expect(SealImage.officialLayout(count: 3).map { [$0.column, $0.row] } == [[0, 0], [0, 1], [0, 2]])
        // Rendered: the first of four characters lands top right, nothing in the other cells.
        let image = try PNGImage.decode(try SealImage.officialSeal(text: "印　　　", fontPath: Self.font, sizePx: 256))
        let alpha = try #require(image.alpha)
        func ink(_ xs: Range<Int>, _ ys: Range<Int>) -> Int { ys.reduce(0) { sum, y in sum + xs.filter { alpha[y * 256 + $0] > 0 }.count } }
        #expect(ink(135..<215, 40..<120) > 500)  // top right
        #expect(ink(40..<120, 40..<215) == 0)    // left column
        #expect(ink(135..<215, 135..<215) == 0)  // bottom right
    }

    @Test func personalSealLooksLikeASeal() throws {
        let png = try SealImage.personalSeal(text: "葛城", fontPath: Self.font)
        try Data(png).write(to: URL(fileURLWithPath: "/tmp/seal-personal.png"))
        let image = try PNGImage.decode(png)
        #expect(image.width == 256 && image.height == 256)
        let alpha = try #require(image.alpha)
        let a = { (x: Int, y: Int) in Int(alpha[y * 256 + x]) }
        // Round: the corners and the diagonal just inside them are blank; the ring is solid ink.
        for (x, y) in [(0, 0), (255, 0), (0, 255), (255, 255), (20, 20), (235, 235)] { #expect(a(x, y) == 0, "\(x),\(y)") }
        for (x, y) in [(128, 8), (128, 247), (8, 128), (247, 128)] { #expect(a(x, y) == 255, "ring at \(x),\(y)") }
        // Two characters stacked: ink in the upper and the lower half of the middle.
        let upper = (50..<120).flatMap { y in (70..<186).map { a($0, y) } }.filter { $0 > 128 }.count
        let lower = (136..<206).flatMap { y in (70..<186).map { a($0, y) } }.filter { $0 > 128 }.count
        #expect(upper > 1500 && lower > 1500)
        // A square personal seal has ink in its corners' border instead.
        let square = try #require(try PNGImage.decode(try SealImage.personalSeal(text: "葛城", fontPath: Self.font, round: false)).alpha)
        #expect(square[8 * 256 + 8] == 255)
    }

    @Test func sealsAreDeterministic() throws {
        #expect(try SealImage.officialSeal(text: "架空市長之印", fontPath: Self.font, sizePx: 200)
            == (try SealImage.officialSeal(text: "架空市長之印", fontPath: Self.font, sizePx: 200)))
        #expect(try SealImage.personalSeal(text: "山田", fontPath: Self.font) == (try SealImage.personalSeal(text: "山田", fontPath: Self.font)))
        #expect(try SealImage.personalSeal(text: "山田", fontPath: Self.font) != (try SealImage.personalSeal(text: "山本", fontPath: Self.font)))
    }

    @Test func sealErrors() {
        #expect(throws: SealImageError(code: .font, detail: "cannot open /nonexistent.ttf (FreeType error 1)")) {
            try SealImage.personalSeal(text: "山", fontPath: "/nonexistent.ttf")
        }
        let empty = #expect(throws: SealImageError.self) { try SealImage.personalSeal(text: "", fontPath: Self.font) }
        #expect(empty?.code == .text)
        let tooLong = #expect(throws: SealImageError.self) { try SealImage.personalSeal(text: "長谷川原田", fontPath: Self.font) }
        #expect(tooLong?.code == .text)
        let tiny = #expect(throws: SealImageError.self) { try SealImage.officialSeal(text: "印", fontPath: Self.font, sizePx: 8) }
        #expect(tiny?.code == .size)
        // U+E000 (Private Use Area) is not in IPAmj明朝: refused rather than drawn as a blank.
        let missing = #expect(throws: SealImageError.self) { try SealImage.personalSeal(text: "\u{E000}", fontPath: Self.font) }
        #expect(missing?.code == .glyph)
    }
}
