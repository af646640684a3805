import Foundation
import KofuTesting

enum FileHandleStderr {
    static func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}

/// Where Templates/ and Fonts/ are: `--root`, else the folder holding this checkout (searched
/// upwards from the current folder and from the executable).
func locateRoot(_ explicit: String?) -> String? {
    if let explicit { return explicit }
    if let found = KofuTesting.Demo.repositoryRoot() { return found }
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    return KofuTesting.Demo.repositoryRoot(from: exe)
}
