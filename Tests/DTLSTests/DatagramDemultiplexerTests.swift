import DTLS
import Testing

@Suite("RFC 7983 demultiplexing")
struct DatagramDemultiplexerTests {
    static let table: [(UInt8, DatagramDemultiplexer.PacketKind)] = [
        (0, .stun), (1, .stun), (3, .stun),
        (4, .unknown), (15, .unknown),
        (16, .zrtp), (19, .zrtp),
        (20, .dtls), (22, .dtls), (23, .dtls), (63, .dtls),
        (64, .turnChannel), (79, .turnChannel),
        (80, .unknown), (127, .unknown),
        (128, .rtp), (0x80, .rtp), (0x81, .rtp), (191, .rtp),
        (192, .unknown), (255, .unknown),
    ]

    @Test("first byte ranges", arguments: table)
    func ranges(byte: UInt8, kind: DatagramDemultiplexer.PacketKind) {
        #expect(DatagramDemultiplexer.kind(ofFirstByte: byte) == kind)
        #expect(DatagramDemultiplexer.kind(of: [byte, 0, 0, 0]) == kind)
    }

    @Test("every byte value maps to exactly the documented range")
    func exhaustive() {
        var counts: [DatagramDemultiplexer.PacketKind: Int] = [:]
        for byte in UInt8.min...UInt8.max { counts[DatagramDemultiplexer.kind(ofFirstByte: byte), default: 0] += 1 }
        #expect(counts[.stun] == 4)
        #expect(counts[.zrtp] == 4)
        #expect(counts[.dtls] == 44)
        #expect(counts[.turnChannel] == 16)
        #expect(counts[.rtp] == 64)
        #expect(counts[.unknown] == 256 - 4 - 4 - 44 - 16 - 64)
    }

    @Test("empty datagram is unknown")
    func empty() {
        #expect(DatagramDemultiplexer.kind(of: [UInt8]()) == .unknown)
    }

    @Test("datagrams the handshake emits classify as DTLS")
    func handshakeIsDTLS() throws {
        let connection = try DTLSConnection(role: .client, certificate: certificateA)
        let hello = try connection.start(now: .now)
        #expect(!hello.isEmpty)
        #expect(hello.allSatisfy { DatagramDemultiplexer.kind(of: $0) == .dtls })
    }
}
