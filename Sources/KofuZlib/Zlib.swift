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
