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
        // For the fuzz harnesses of Fuzz/ (a separate package, built with sanitizers): the parsers' modules.
        .library(name: "KofuJSON", targets: ["KofuJSON"]),
        .library(name: "KofuDigest", targets: ["KofuDigest"]),
        .library(name: "KofuConfiguration", targets: ["KofuConfiguration"]),
        .library(name: "CardAuth", targets: ["CardAuth"]),
        .library(name: "Issuance", targets: ["Issuance"]),
        .library(name: "Replica", targets: ["Replica"]),
        .library(name: "Typesetting", targets: ["Typesetting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The HTTP server (issue 5). `traits: []` drops swift-configuration, which Hummingbird pulls in
        // by default (its module "Configuration" is why ours is named KofuConfiguration).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries: a module map and one shim header each, nothing else.
        .systemLibrary(name: "CHarfBuzz", pkgConfig: "harfbuzz-subset",
                       providers: [.apt(["libharfbuzz-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The PostgreSQL client (issue 7): the replica backend for several servers (docs/decisions.md).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // Card certificates, CRLs and SHA-256 (issue 5); declared here with the other C libraries.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // deflate/inflate, shared by PDF streams, PNG decoding and (later) gzip extracts.
        .target(name: "KofuZlib", dependencies: ["CZlib"]),
        // SHA-256 (OpenSSL EVP): extract checksums, X-Content-SHA256, card hashes, the audit chain.
        .target(name: "KofuDigest", dependencies: ["COpenSSL"]),
        // Strict JSON (RFC 8259 + I-JSON) and a Decoder that refuses unknown members.
        .target(name: "KofuJSON", exclude: ["README.md"]),
        // The TOML configuration of operations.md, parsed strictly and validated once at start.
        .target(name: "KofuConfiguration", exclude: ["README.md"]),
        // The replica: feed records and batches (store, sync apply and reseed follow in issue 4).
        .target(name: "Replica", dependencies: [
            "KofuJSON", "Typesetting", "CSQLite", "CLibPQ", "KofuDigest", "KofuZlib", "KofuConfiguration",
        ], exclude: ["README.md"]),
        // Shaping, font coverage, subsetting, PDF writing. Knows nothing about residents.
        .target(name: "Typesetting", dependencies: ["CHarfBuzz", "KofuZlib"], exclude: ["README.md"]),
        // The two certificates: content model, 和暦, templates, page breaking.
        .target(name: "Certificates", dependencies: ["Typesetting", "KofuJSON"], exclude: ["README.md"]),
        // Compact JWS, card certificate path validation and CRLs (OpenSSL underneath).
        .target(name: "CardAuth", dependencies: ["COpenSSL", "KofuDigest", "KofuJSON"], exclude: ["README.md"]),
        // The use case: authenticate, authorize, snapshot, render, audit, answer. No HTTP.
        .target(name: "Issuance", dependencies: [
            "Replica", "Certificates", "Typesetting", "CardAuth", "KofuConfiguration", "KofuDigest", "KofuJSON",
        ], exclude: ["README.md"]),
        // Hummingbird routes, the one error-to-HTTP mapping, TLS, metrics, /openapi.json.
        .target(name: "KofuServer", dependencies: [
            "Issuance", "Replica", "CardAuth", "KofuConfiguration", "KofuJSON", "KofuDigest",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], exclude: ["README.md"]),
        // A small HTTP/1.1 client on SwiftNIO (TLS and client certificates): demo, loadtest, tests.
        .target(name: "KofuHTTPClient", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Demo municipality, test PKI, fixtures, seal images: shared by tests and `kofu demo`.
        .target(name: "KofuTesting", dependencies: [
            "Certificates", "Typesetting", "KofuZlib", "CFreeType", "COpenSSL", "KofuDigest", "KofuJSON", "Replica",
        ]),
        .executableTarget(name: "kofu", dependencies: [
            "Certificates", "Typesetting", "KofuTesting", "KofuConfiguration", "Replica", "KofuJSON",
            "CardAuth", "Issuance", "KofuServer", "KofuHTTPClient", "KofuDigest",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "KofuJSONTests", dependencies: ["KofuJSON"]),
        .testTarget(name: "KofuConfigurationTests", dependencies: ["KofuConfiguration"]),
        .testTarget(name: "KofuCLITests", dependencies: ["KofuTesting", "KofuHTTPClient", "KofuJSON"]),
        .testTarget(name: "ReplicaTests", dependencies: ["Replica", "KofuJSON", "Typesetting", "KofuDigest", "KofuZlib", "KofuConfiguration"]),
        .testTarget(name: "TypesettingTests", dependencies: ["Typesetting", "KofuTesting", "KofuZlib"]),
        .testTarget(name: "CertificatesTests", dependencies: ["Certificates", "Typesetting", "KofuTesting"]),
        .testTarget(name: "CardAuthTests", dependencies: ["CardAuth", "KofuTesting", "KofuJSON", "KofuDigest"]),
        .testTarget(name: "IssuanceTests", dependencies: [
            "Issuance", "CardAuth", "Replica", "KofuTesting", "KofuConfiguration", "KofuJSON", "KofuDigest", "Certificates",
        ]),
        .testTarget(name: "KofuServerTests", dependencies: [
            "KofuServer", "Issuance", "KofuTesting", "KofuHTTPClient", "KofuConfiguration", "KofuJSON",
        ]),
    ]
)
