import Foundation
import KofuJSON

/// Fixtures live in `<repo root>/../shared/testdata`, beside the clone (CI lays it out the same).
enum TestData {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // KofuJSONTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repo root
        .deletingLastPathComponent()  // beside the repo
        .appendingPathComponent("shared/testdata")

    static let suite = directory.appendingPathComponent("jsontestsuite")

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// Empty when the folder is missing; `suiteIsPresent` fails in that case, so the
    /// parameterised tests cannot pass by having nothing to run.
    static func suiteFiles(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: suite.path)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
            .sorted()
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func parse(_ s: String, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
    try JSONParser.parse(bytes(s), limits: limits)
}

func parseError(_ input: [UInt8], limits: JSONLimits = .default) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(input, limits: limits)
        return nil
    } catch {
        return error
    }
}

func parseError(_ s: String, limits: JSONLimits = .default) -> JSONParseError? { parseError(bytes(s), limits: limits) }

func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
