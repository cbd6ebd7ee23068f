import DTLS
import Foundation
import ICE
import SecureTransport
import Synchronization
import Testing

@Suite("DTLSTransport.send(records:)")
struct DTLSBatchTests {
    @Test("a batch of records goes out as one sendBatch and arrives in order, one record per datagram")
    func batchInOrder() async throws {
        let (a, b) = try await connectedSides()
        var configuration = DTLSTransportConfiguration()
        configuration.initialRetransmissionTimeout = .milliseconds(100)
        async let client = DTLSTransport.connect(
            agent: a.agent, stream: a.stream, role: .client, certificate: a.certificate,
            remoteFingerprint: b.certificate.fingerprint(), configuration: configuration)
        async let server = DTLSTransport.connect(
            agent: b.agent, stream: b.stream, role: .server, certificate: b.certificate,
            remoteFingerprint: a.certificate.fingerprint(), configuration: configuration)
        let (left, right) = try await (client, server)
        #expect(a.agent.usesDirectSend(stream: a.stream))
        let received = Mutex<[[UInt8]]>([])
        right.setRecordHandler { records in received.withLock { $0 += records } }
        let largest = left.maximumApplicationDataSize
        #expect(largest <= 1200)
        let records: [[UInt8]] = (0..<60).map { i in
            let size = i % 5 == 4 ? 1 + i * 3 : largest
            return (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i) }
        }
        let sentBefore = left.statistics.datagramsSent
        try left.send(records: records)
        #expect(left.statistics.datagramsSent - sentBefore == records.count)
        #expect(left.statistics.sendFailures == 0)
        try left.send(records: [])
        let deadline = ContinuousClock.now + .seconds(5)
        while received.withLock({ $0.count }) < records.count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(received.withLock { $0 } == records)
        left.close()
        #expect(throws: SecureTransportError.closed) { try left.send(records: [[1]]) }
        right.close()
        await a.agent.close()
        await b.agent.close()
    }
}
