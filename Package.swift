// swift-tools-version: 6.1
// SwiftJingle: a Jingle (XEP-0166) media and file-transfer engine.
// The target graph follows docs in README.md: C at the edge (one system library per C library),
// pure protocol targets in the middle, actors that do I/O on top.
import PackageDescription

let package = Package(
    name: "SwiftJingle",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jingle", targets: ["JingleCLI"]),
        .library(name: "XMLStream", targets: ["XMLStream"]),
        .library(name: "XMPPCore", targets: ["XMPPCore"]),
        .library(name: "Hashes", targets: ["Hashes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // ---- C libraries (Debian packages; pkg-config names as on Debian 12) ----
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        .systemLibrary(name: "CNice", pkgConfig: "nice", providers: [.apt(["libnice-dev", "libglib2.0-dev"])]),

        // ---- pure and thin-wrapper layers ----
        .target(name: "XMLStream", dependencies: ["CLibXML2"]),
        .target(name: "XMPPCore", dependencies: ["XMLStream"]),
        .target(name: "Hashes", dependencies: ["COpenSSL"]),
        .target(name: "Jingle", dependencies: ["XMPPCore", "XMLStream"]),
        .target(name: "SDP"),
        .target(name: "JingleSDP", dependencies: ["Jingle", "SDP", "XMPPCore", "XMLStream"]),
        .target(name: "ICE", dependencies: ["CNice", .product(name: "Logging", package: "swift-log")]),
        .target(name: "DTLS", dependencies: ["COpenSSL", "Hashes"]),
        .target(name: "SRTP", dependencies: ["CSRTP"]),
        .target(name: "RTP"),
        .target(name: "PeerStream"),
        .target(name: "FileTransfer", dependencies: ["Hashes"]),

        // ---- executable ----
        .executableTarget(
            name: "JingleCLI",
            dependencies: [
                "XMLStream", "XMPPCore", "Hashes", "CLibXML2", "COpenSSL", "CSRTP", "CNice",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // ---- benchmarks (run with scripts/bench NAME; release build) ----
        .executableTarget(name: "bench-xml-parse", dependencies: ["XMLStream", "CLibXML2"], path: "Benchmarks/xml-parse"),
        .executableTarget(name: "bench-srtp", dependencies: ["SRTP", "CSRTP"], path: "Benchmarks/srtp"),

        // ---- fuzzing (run with scripts/fuzz TARGET SECONDS; scripts/soak for long runs) ----
        .target(name: "FuzzSupport", dependencies: ["XMLStream", "XMPPCore", "Jingle", "SDP", "RTP", "DTLS", "SRTP", "Hashes", "FileTransfer"], path: "Fuzz/Support"),
        .executableTarget(name: "fuzz-harness", dependencies: ["FuzzSupport"], path: "Fuzz/harness"),

        // ---- tests ----
        .testTarget(name: "XMLStreamTests", dependencies: ["XMLStream"], resources: [.copy("Fixtures")]),
        .testTarget(name: "XMPPCoreTests", dependencies: ["XMPPCore"]),
        .testTarget(name: "CLibrariesTests", dependencies: ["Hashes", "CLibXML2", "COpenSSL", "CSRTP", "CNice"]),
        .testTarget(name: "JingleTests", dependencies: ["Jingle", "XMPPCore", "XMLStream"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"], resources: [.copy("Fixtures")]),
        .testTarget(name: "JingleSDPTests", dependencies: ["JingleSDP", "Jingle", "SDP", "XMLStream"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ICETests", dependencies: ["ICE"]),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS"]),
        .testTarget(name: "SRTPTests", dependencies: ["SRTP"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP"]),
        .testTarget(name: "PeerStreamTests", dependencies: ["PeerStream"]),
        .testTarget(name: "FileTransferTests", dependencies: ["FileTransfer", "Hashes"]),
        .testTarget(name: "JingleCLITests", dependencies: ["JingleCLI"]),
        .testTarget(
            name: "HardeningTests",
            dependencies: ["FuzzSupport", "XMLStream", "XMPPCore", "Jingle", "SDP", "RTP", "DTLS", "SRTP", "Hashes", "FileTransfer"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
