// swift-tools-version:6.1
import PackageDescription

// Dependencies are deliberately few: every package here is built from scratch by CI on 2 cores.
// The server issues add Hummingbird and friends; the typesetting stack needs only the system C
// libraries (HarfBuzz with hb-subset, zlib, FreeType for the demo seal rasteriser).
let package = Package(
    name: "kofu",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kofu", targets: ["kofu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries: a module map and one shim header each, nothing else.
        .systemLibrary(name: "CHarfBuzz", pkgConfig: "harfbuzz-subset",
                       providers: [.apt(["libharfbuzz-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Card certificates, CRLs and SHA-256 (issue 5); declared here with the other C libraries.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // deflate/inflate, shared by PDF streams, PNG decoding and (later) gzip extracts.
        .target(name: "KofuZlib", dependencies: ["CZlib"]),
        // SHA-256 (OpenSSL EVP): extract checksums, X-Content-SHA256, card hashes, the audit chain.
        .target(name: "KofuDigest", dependencies: ["COpenSSL"]),
        // Strict JSON (RFC 8259 + I-JSON) and a Decoder that refuses unknown members.
        .target(name: "KofuJSON", exclude: ["README.md"]),
        // The TOML configuration of operations.md, parsed strictly and validated once at start.
        .target(name: "Configuration", exclude: ["README.md"]),
        // The replica: feed records and batches (store, sync apply and reseed follow in issue 4).
        .target(name: "Replica", dependencies: ["KofuJSON", "Typesetting", "CSQLite", "KofuDigest", "KofuZlib"], exclude: ["README.md"]),
        // Shaping, font coverage, subsetting, PDF writing. Knows nothing about residents.
        .target(name: "Typesetting", dependencies: ["CHarfBuzz", "KofuZlib"], exclude: ["README.md"]),
        // The two certificates: content model, 和暦, templates, page breaking.
        .target(name: "Certificates", dependencies: ["Typesetting", "KofuJSON"], exclude: ["README.md"]),
        // Demo municipality, fixtures, seal images: shared by tests and `kofu demo`.
        .target(name: "KofuTesting", dependencies: ["Certificates", "Typesetting", "KofuZlib", "CFreeType"]),
        .executableTarget(name: "kofu", dependencies: [
            "Certificates", "Typesetting", "KofuTesting", "Configuration", "Replica", "KofuJSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "KofuJSONTests", dependencies: ["KofuJSON"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration"]),
        .testTarget(name: "KofuCLITests", dependencies: ["KofuTesting"]),
        .testTarget(name: "ReplicaTests", dependencies: ["Replica", "KofuJSON", "Typesetting", "KofuDigest", "KofuZlib"]),
        .testTarget(name: "TypesettingTests", dependencies: ["Typesetting", "KofuTesting", "KofuZlib"]),
        .testTarget(name: "CertificatesTests", dependencies: ["Certificates", "Typesetting", "KofuTesting"]),
    ]
)
