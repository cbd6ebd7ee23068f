import PeerStream
@testable import SecureTransport
import Testing

/// Path MTU probes leave in batches of their own (so UDP GSO never uses a probe as its segment size).
@Test func probesAreSentApartFromTheRestOfTheirBatch() {
    let probe = PeerStreamPacket.probe(packetNumber: 3, padding: 1400).serialized(connectionID: 1)
    #expect(probe.first == PeerStreamPacket.probeFirstByte)
    let data = (0..<5).map { PeerStreamPacket.data(packetNumber: UInt64($0), offset: 0, payload: [1, 2]).serialized(connectionID: 1) }
    #expect(SecureStream.isolatingProbes(data) == [data])
    #expect(SecureStream.isolatingProbes([data[0], data[1], probe, data[2]]) == [[data[0], data[1]], [probe], [data[2]]])
    #expect(SecureStream.isolatingProbes([probe, data[0]]) == [[probe], [data[0]]])
    #expect(SecureStream.isolatingProbes([data[0], probe]) == [[data[0]], [probe]])
    #expect(SecureStream.isolatingProbes([probe]) == [[probe]])
}
