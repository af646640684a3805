import Foundation

/// Runs the real outside tools the tests check PDFs with (pdftotext, qpdf, pdfinfo, python3 +
/// fontTools), so that a check never relies on kofu's own reading of its output.
public enum Tools {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], in currentDirectory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/" + executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so that a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    public static func temporaryFile(_ bytes: [UInt8], suffix: String = ".pdf") throws -> String {
        let path = NSTemporaryDirectory() + "kofu-test-" + UUID().uuidString + suffix
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `pdftotext -raw` (content-stream order) of one page (1-based) or all, as UTF-8.
    /// Poppler turns U+3000 into a plain space (or a gap) in every mode, and its default mode's
    /// column detection splits a line at such a gap; `-raw` keeps each value contiguous.
    public static func pdfText(_ path: String, page: Int? = nil) throws -> String {
        var args = ["-enc", "UTF-8", "-raw"]
        if let page { args += ["-f", String(page), "-l", String(page)] }
        return try run("pdftotext", args + [path, "-"]).stdout
    }

    /// Text without spaces (U+0020, U+3000) and line breaks, for comparing extracted text with
    /// stored values: extraction keeps the characters and their order, not the blanks.
    public static func squeezed(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !" \u{3000}\n\r\u{0C}".unicodeScalars.contains($0) }))
    }

    /// `qpdf --check`: exit status and whatever it printed.
    public static func qpdfCheck(_ path: String) throws -> Result { try run("qpdf", ["--check", path]) }

    public static var shared: String {
        (Demo.repositoryRoot().map { $0 + "/../shared" }) ?? "../shared"
    }
}
