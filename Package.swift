// swift-tools-version: 6.1
// SwiftJingle: a Jingle (XEP-0166) media and file-transfer engine.
// The target graph follows README.md: C at the edge (one system library per C library), pure protocol
// targets in the middle, actors that do I/O on top. One entry per line, so parallel work merges cleanly.
import PackageDescription

let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioTLS: Target.Dependency = .product(name: "NIOTLS", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "SwiftJingle",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jingle", targets: ["JingleCLI"]),
        .library(name: "XMLStream", targets: ["XMLStream"]),
        .library(name: "XMPPCore", targets: ["XMPPCore"]),
        .library(name: "XMPPLink", targets: ["XMPPLink"]),
        .library(name: "Jingle", targets: ["Jingle"]),
        .library(name: "SDP", targets: ["SDP"]),
        .library(name: "JingleSDP", targets: ["JingleSDP"]),
        .library(name: "ICE", targets: ["ICE"]),
        .library(name: "DTLS", targets: ["DTLS"]),
        .library(name: "SRTP", targets: ["SRTP"]),
        .library(name: "RTP", targets: ["RTP"]),
        .library(name: "PeerStream", targets: ["PeerStream"]),
        .library(name: "Media", targets: ["Media"]),
        .library(name: "SecureTransport", targets: ["SecureTransport"]),
        .library(name: "FileTransfer", targets: ["FileTransfer"]),
        .library(name: "SIP", targets: ["SIP"]),
        .library(name: "JingleEngine", targets: ["JingleEngine"]),
        .library(name: "SIPGateway", targets: ["SIPGateway"]),
        .library(name: "Hashes", targets: ["Hashes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // ---- C libraries (Debian packages; pkg-config names as on Debian 12) ----
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        .systemLibrary(name: "CNice", pkgConfig: "nice", providers: [.apt(["libnice-dev", "libglib2.0-dev"])]),
        .systemLibrary(name: "CLibOpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),

        // ---- pure and thin-wrapper layers ----
        .target(name: "XMLStream", dependencies: ["CLibXML2"]),
        .target(name: "XMPPCore", dependencies: ["XMLStream"]),
        .target(name: "DNS"),
        .target(name: "Hashes", dependencies: ["COpenSSL"]),
        .target(name: "Jingle", dependencies: ["XMPPCore", "XMLStream"]),
        .target(name: "SDP"),
        .target(name: "JingleSDP", dependencies: ["Jingle", "SDP", "XMPPCore", "XMLStream"]),
        .target(name: "ICE", dependencies: ["CNice", log]),
        .target(name: "DTLS", dependencies: ["COpenSSL", "Hashes"]),
        .target(name: "SRTP", dependencies: ["CSRTP"]),
        .target(name: "RTP"),
        .target(name: "PeerStream"),
        .target(name: "FileTransfer", dependencies: ["Hashes"]),

        // ---- I/O layers ----
        .target(name: "XMPPLink", dependencies: ["XMPPCore", "XMLStream", "Hashes", "DNS", nioCore, nioPosix, nioTLS, nioSSL, log]),
        .target(name: "Media", dependencies: ["ICE", "DTLS", "SRTP", "RTP", "SDP", "CLibOpus", log]),
        .target(name: "SIP", dependencies: ["Hashes", "DNS", nioCore, nioPosix, log]),
        .target(name: "SecureTransport", dependencies: ["ICE", "DTLS", "PeerStream", log]),
        .target(name: "JingleEngine", dependencies: ["Jingle", "JingleSDP", "XMPPLink", "XMPPCore", "XMLStream", "ICE", "DTLS", "SecureTransport", "PeerStream", "FileTransfer", "Media", "Hashes", log]),
        .target(name: "SIPGateway", dependencies: ["SIP", "JingleEngine", "Jingle", "JingleSDP", "SDP", "XMPPLink", "XMPPCore", "XMLStream", "Media", "ICE", "DTLS", "SRTP", log]),

        // ---- executable ----
        .executableTarget(
            name: "JingleCLI",
            dependencies: [
                "XMLStream",
                "XMPPCore",
                "Hashes",
                "CLibXML2",
                "COpenSSL",
                "CSRTP",
                "CNice",
                "Jingle",
                "JingleSDP",
                "SDP",
                "Media",
                "JingleEngine",
                "XMPPLink",
                "FileTransfer",
                "SecureTransport",
                "ICE",
                "DTLS",
                "SIPGateway",
                "SIP",
                argumentParser,
                log,
            ]
        ),

        // ---- fuzzing (run with scripts/fuzz TARGET SECONDS; scripts/soak for long runs) ----
        .target(name: "FuzzSupport", dependencies: ["XMLStream", "XMPPCore", "Jingle", "SDP", "RTP", "DTLS", "SRTP", "Hashes", "FileTransfer", "SIP", "PeerStream"], path: "Fuzz/Support"),
        .executableTarget(name: "fuzz-harness", dependencies: ["FuzzSupport"], path: "Fuzz/harness"),

        // ---- benchmarks (run with scripts/bench NAME; release build) ----
        .executableTarget(name: "bench-xml-parse", dependencies: ["XMLStream", "CLibXML2"], path: "Benchmarks/xml-parse"),
        .executableTarget(name: "bench-srtp", dependencies: ["SRTP", "CSRTP"], path: "Benchmarks/srtp"),
        .executableTarget(name: "bench-jingle-codec", dependencies: ["Jingle", "XMLStream"], path: "Benchmarks/jingle-codec"),
        .executableTarget(name: "bench-sdp-roundtrip", dependencies: ["JingleSDP", "Jingle", "SDP", "XMLStream"], path: "Benchmarks/sdp-roundtrip", exclude: ["instructions.sh"]),
        .executableTarget(name: "bench-gateway-load", dependencies: ["SIPGateway", "SIP", "JingleEngine", "Jingle", "JingleSDP", "SDP", "XMPPLink", "XMPPCore", "TestServers", log], path: "Benchmarks/gateway-load", exclude: ["uac.xml"]),
        .executableTarget(name: "bench-call-setup", dependencies: ["Media", "ICE", "DTLS", "SDP", "Jingle", "JingleEngine", "XMPPLink", "XMPPCore", "TestServers"], path: "Benchmarks/call-setup"),
        .executableTarget(name: "bench-transport-throughput", dependencies: ["SecureTransport", "ICE", "DTLS", "PeerStream", "TestServers"], path: "Benchmarks/transport-throughput", exclude: ["run"]),
        .executableTarget(name: "bench-parallel-transfers", dependencies: ["JingleEngine", "Jingle", "FileTransfer", "Hashes", "ICE", "XMPPLink", "XMPPCore", "TestServers"], path: "Benchmarks/parallel-transfers"),
        .executableTarget(name: "bench-sessions-memory", dependencies: ["JingleEngine", "Jingle", "XMPPLink", "XMPPCore"], path: "Benchmarks/sessions-memory"),

        // ---- samples (public API only; see Samples/README.md) ----
        .executableTarget(name: "SDPBridge", dependencies: ["JingleSDP", "Jingle", "SDP", "XMPPCore", "XMLStream"], path: "Samples/SDPBridge", exclude: ["README.md"]),
        .executableTarget(name: "SendFile", dependencies: ["JingleEngine", "XMPPLink", "XMPPCore", "ICE", "FileTransfer", "Hashes"], path: "Samples/SendFile", exclude: ["README.md"]),
        .executableTarget(name: "EchoCall", dependencies: ["JingleEngine", "Jingle", "JingleSDP", "Media", "ICE", "DTLS", "RTP", "SDP", "XMPPLink", "XMPPCore"], path: "Samples/EchoCall", exclude: ["README.md"]),
        .executableTarget(name: "GatewayScenario", dependencies: ["SIPGateway", "SIP", "JingleEngine", "Jingle", "JingleSDP", "SDP", "XMPPLink", "XMPPCore", log], path: "Samples/GatewayScenario", exclude: ["README.md", "uac_call.xml"]),

        // ---- tests ----
        .target(name: "TestServers", dependencies: ["XMPPLink", "XMPPCore", "RTP"], path: "Tests/TestServers"),
        .testTarget(name: "XMLStreamTests", dependencies: ["XMLStream", "TestServers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "XMPPCoreTests", dependencies: ["XMPPCore"]),
        .testTarget(name: "CLibrariesTests", dependencies: ["Hashes", "CLibXML2", "COpenSSL", "CSRTP", "CNice"]),
        .testTarget(name: "JingleTests", dependencies: ["Jingle", "XMPPCore", "XMLStream"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SDPTests", dependencies: ["SDP", "TestServers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "JingleSDPTests", dependencies: ["JingleSDP", "Jingle", "SDP", "XMLStream", "TestServers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ICETests", dependencies: ["ICE", "TestServers", log]),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS"]),
        .testTarget(name: "SRTPTests", dependencies: ["SRTP"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP", "TestServers"]),
        .testTarget(name: "PeerStreamTests", dependencies: ["PeerStream"]),
        .testTarget(name: "FileTransferTests", dependencies: ["FileTransfer", "Hashes"]),
        .testTarget(name: "DNSTests", dependencies: ["DNS"]),
        .testTarget(name: "XMPPLinkTests", dependencies: ["XMPPLink", "XMPPCore", "XMLStream", "Hashes", "DNS", "TestServers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "ICE", "DTLS", "SRTP", "RTP", "SDP"]),
        .testTarget(name: "SIPTests", dependencies: ["SIP", "Hashes", "DNS", nioCore, nioPosix, log, "TestServers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "JingleCLITests", dependencies: ["JingleCLI", "RTP", "TestServers"]),
        .testTarget(name: "SecureTransportTests", dependencies: ["SecureTransport", "ICE", "DTLS", "PeerStream", "TestServers"]),
        .testTarget(name: "JingleEngineTests", dependencies: ["JingleEngine", "Jingle", "XMPPLink", "XMPPCore", "ICE", "DTLS", "FileTransfer", "Hashes", "Media", "RTP", "SDP", "JingleSDP", "TestServers"]),
        .testTarget(name: "HardeningTests", dependencies: ["FuzzSupport", "XMLStream", "XMPPCore", "Jingle", "SDP", "RTP", "DTLS", "SRTP", "Hashes", "FileTransfer", "SIP", "ICE", "TestServers", "JingleCLI"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SamplesTests", dependencies: ["SDPBridge", "SendFile", "EchoCall", "GatewayScenario"]),
        .testTarget(name: "SIPGatewayTests", dependencies: ["SIPGateway", "SIP", "JingleEngine", "Jingle", "JingleSDP", "SDP", "XMPPLink", "XMPPCore", "TestServers", "Media", "RTP", "ICE", "DTLS", "SRTP", log], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
