// swift-tools-version:6.1
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name (the checkout may be called anything).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

// The libFuzzer harnesses (issue 8), a package of their own so that the main build and tests stay
// unsanitised: `bash scripts/fuzz.sh` builds this with `--sanitize=fuzzer --sanitize=address`.
// One binary holds every harness (one sanitised link instead of ten on two cores); the
// environment variable KOFU_FUZZ_HARNESS chooses one (docs/fuzzing.md).
let package = Package(
    name: "kofu-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "KofuFuzz", dependencies: [
            .product(name: "KofuJSON", package: root),
            .product(name: "KofuDigest", package: root),
            .product(name: "KofuConfiguration", package: root),
            .product(name: "CardAuth", package: root),
            .product(name: "Issuance", package: root),
            .product(name: "Replica", package: root),
            .product(name: "Typesetting", package: root),
        ]),
    ]
)
