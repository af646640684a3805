import Foundation

// libFuzzer's two entry points. libFuzzer supplies `main`; this module has none.

nonisolated(unsafe) var selected: Harness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["KOFU_FUZZ_HARNESS"] ?? ""
    guard let harness = harnesses.first(where: { $0.name == name }) else {
        var text = "kofu-fuzz: set KOFU_FUZZ_HARNESS to one of:\n"
        for h in harnesses { text += "  \(h.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(h.about)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        exit(2)
    }
    harness.prepare()
    selected = harness
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected!.run(bytes)
    return 0
}
