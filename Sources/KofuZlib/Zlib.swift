internal import CZlib

/// A deflate/inflate failure, with zlib's own return code.
public struct ZlibError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable { case streamError = "ZLIB_STREAM_ERROR", dataError = "ZLIB_DATA_ERROR", tooLarge = "ZLIB_OUTPUT_TOO_LARGE" }
    public let code: Code
    public let zlibStatus: Int32
    public var description: String { "\(code.rawValue) (zlib status \(zlibStatus))" }
}

/// The one wrapper of zlib in the project. Stateless: each call owns its z_stream.
public enum Zlib {
    /// zlib format (RFC 1950), as PDF's FlateDecode and PNG's IDAT expect.
    /// With `gzip`, the gzip format (RFC 1952) instead.
    public static func deflate(_ input: [UInt8], level: Int32 = 6, gzip: Bool = false) -> [UInt8] {
        input.withUnsafeBufferPointer { deflate(UnsafeRawBufferPointer($0), level: level, gzip: gzip) }
    }

    public static func deflate(_ input: UnsafeRawBufferPointer, level: Int32 = 6, gzip: Bool = false) -> [UInt8] {
        var stream = z_stream()
        let status = kofu_deflateInit2(&stream, level, Z_DEFLATED, gzip ? 31 : 15, 9, Z_DEFAULT_STRATEGY)
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")  // only on out-of-memory
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let produced: Int = output.withUnsafeMutableBufferPointer { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(bound)
            let rc = CZlib.deflate(&stream, Z_FINISH)
            precondition(rc == Z_STREAM_END, "deflate with deflateBound output failed: \(rc)")
            return Int(stream.total_out)
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Inflates a zlib stream (or gzip with `gzip: true`), refusing output beyond `maxOutput`
    /// bytes so that a small hostile input cannot claim unbounded memory.
    public static func inflate(_ input: [UInt8], maxOutput: Int, gzip: Bool = false) throws(ZlibError) -> [UInt8] {
        var stream = z_stream()
        guard kofu_inflateInit2(&stream, gzip ? 31 : 15) == Z_OK else {
            throw ZlibError(code: .streamError, zlibStatus: Z_STREAM_ERROR)
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var rc: Int32 = Z_OK
        try input.withUnsafeBufferPointer { (inp) throws(ZlibError) in
            stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            stream.avail_in = uInt(inp.count)
            repeat {
                let have: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                if rc != Z_OK && rc != Z_STREAM_END {
                    throw ZlibError(code: rc == Z_BUF_ERROR ? .dataError : (rc == Z_DATA_ERROR ? .dataError : .streamError), zlibStatus: rc)
                }
                if output.count + have > maxOutput { throw ZlibError(code: .tooLarge, zlibStatus: rc) }
                output.append(contentsOf: chunk[0..<have])
                if rc == Z_OK && have == 0 && stream.avail_in == 0 {
                    throw ZlibError(code: .dataError, zlibStatus: Z_BUF_ERROR)  // truncated stream
                }
            } while rc != Z_STREAM_END
        }
        return output
    }

    public static func crc32(_ bytes: some Collection<UInt8>, initial: UInt32 = 0) -> UInt32 {
        var arr = Array(bytes)
        return arr.withUnsafeMutableBufferPointer { UInt32(CZlib.crc32(uLong(initial), $0.baseAddress, uInt($0.count))) }
    }

    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(CZlib.adler32(1, $0.baseAddress, uInt($0.count))) }
    }
}

/// Incremental inflate of a zlib or gzip stream, for inputs too large to hold whole (a gzip
/// reseed extract). Feed compressed bytes with `inflate(_:into:)`; every produced chunk goes to
/// the closure in order. Concatenated gzip members are read on as one text, as `gzip -d` does.
public final class InflateStream {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private let gzip: Bool
    /// True once a whole stream (or gzip member) has ended and no input followed it yet.
    public private(set) var atEnd = false
    public private(set) var totalOut = 0
    private let maxOutput: Int

    public init(gzip: Bool = false, maxOutput: Int = .max) throws(ZlibError) {
        self.gzip = gzip
        self.maxOutput = maxOutput
        guard kofu_inflateInit2(&stream, gzip ? 31 : 15) == Z_OK else {
            throw ZlibError(code: .streamError, zlibStatus: Z_STREAM_ERROR)
        }
    }

    deinit { inflateEnd(&stream) }

    /// Inflates `input` whole, handing each produced chunk to `sink` (valid only during the call).
    public func inflate(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !input.isEmpty else { return }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while stream.avail_in > 0 {
            if atEnd {
                // Another member follows (or garbage, which the next inflate refuses).
                guard gzip else { throw ZlibError(code: .dataError, zlibStatus: Z_STREAM_END) }
                inflateReset(&stream)
                atEnd = false
            }
            var rc: Int32 = Z_OK
            let have: Int = output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                return out.count - Int(stream.avail_out)
            }
            guard rc == Z_OK || rc == Z_STREAM_END || (rc == Z_BUF_ERROR && have > 0) else {
                throw ZlibError(code: rc == Z_STREAM_ERROR ? .streamError : .dataError, zlibStatus: rc)
            }
            totalOut += have
            if totalOut > maxOutput { throw ZlibError(code: .tooLarge, zlibStatus: rc) }
            if have > 0 { try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<have])) } }
            if rc == Z_STREAM_END { atEnd = true }
        }
        // Drain what zlib still holds for this input (output buffer was full).
        while !atEnd {
            var rc: Int32 = Z_OK
            let have: Int = output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                return out.count - Int(stream.avail_out)
            }
            if rc == Z_BUF_ERROR || have == 0 && rc == Z_OK { break }  // needs more input
            guard rc == Z_OK || rc == Z_STREAM_END else { throw ZlibError(code: .dataError, zlibStatus: rc) }
            totalOut += have
            if totalOut > maxOutput { throw ZlibError(code: .tooLarge, zlibStatus: rc) }
            if have > 0 { try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<have])) } }
            if rc == Z_STREAM_END { atEnd = true }
        }
    }

    /// Call at the end of input: a stream cut short is a data error.
    public func finish() throws(ZlibError) {
        guard atEnd else { throw ZlibError(code: .dataError, zlibStatus: Z_BUF_ERROR) }
    }
}

/// Incremental deflate (zlib, or gzip with `gzip: true`) for outputs too large to build whole,
/// such as a generated reseed extract. Output chunks go to the closure in order.
public final class DeflateStream {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 256 * 1024)

    public init(level: Int32 = 6, gzip: Bool = false) {
        let status = kofu_deflateInit2(&stream, level, Z_DEFLATED, gzip ? 31 : 15, 9, Z_DEFAULT_STRATEGY)
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")  // only on out-of-memory
    }

    deinit { deflateEnd(&stream) }

    public func write(_ input: [UInt8], into sink: ([UInt8]) throws -> Void) rethrows {
        try input.withUnsafeBytes { try run($0, flush: Z_NO_FLUSH, sink) }
    }

    /// Ends the stream; call once.
    public func finish(into sink: ([UInt8]) throws -> Void) rethrows {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, sink)
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, _ sink: ([UInt8]) throws -> Void) rethrows {
        stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        stream.avail_in = uInt(input.count)
        repeat {
            var rc: Int32 = Z_OK
            let have: Int = output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                rc = CZlib.deflate(&stream, flush)
                return out.count - Int(stream.avail_out)
            }
            precondition(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
            if have > 0 { try sink(Array(output[0..<have])) }
            if flush == Z_FINISH ? rc == Z_STREAM_END : (stream.avail_in == 0 && stream.avail_out > 0) { break }
        } while true
    }
}
