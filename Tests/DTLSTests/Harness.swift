import DTLS

/// Two connections wired back to back in memory: every datagram one emits is delivered to the other,
/// optionally through a filter that may drop it.
final class Link {
    let client: DTLSConnection
    let server: DTLSConnection
    var clientOutputs: [DTLSOutput] = []
    var serverOutputs: [DTLSOutput] = []
    /// Every datagram that went on the wire, in either direction.
    var wire: [[UInt8]] = []
    /// Return false to drop a datagram travelling toward `to`.
    var deliver: (_ datagram: [UInt8], _ to: DTLSRole) -> Bool = { _, _ in true }

    init(client: DTLSConnection, server: DTLSConnection) {
        self.client = client
        self.server = server
    }

    func connection(_ role: DTLSRole) -> DTLSConnection { role == .client ? client : server }

    /// Delivers `datagrams` to `to` and keeps shuttling the answers until both sides are quiet.
    func shuttle(_ datagrams: [[UInt8]], to: DTLSRole) throws {
        var queue = datagrams.map { ($0, to) }
        var steps = 0
        while !queue.isEmpty {
            steps += 1
            precondition(steps < 1_000, "handshake does not converge")
            let (datagram, destination) = queue.removeFirst()
            wire.append(datagram)
            guard deliver(datagram, destination) else { continue }
            let output = try connection(destination).receive(datagram, now: .now)
            if destination == .client { clientOutputs.append(output) } else { serverOutputs.append(output) }
            let other: DTLSRole = destination == .client ? .server : .client
            queue += output.datagrams.map { ($0, other) }
        }
    }

    func start() throws {
        let hello = try client.start(now: .now)
        try shuttle(hello, to: .server)
    }

    var clientEvents: [DTLSEvent] { clientOutputs.flatMap(\.events) }
    var serverEvents: [DTLSEvent] { serverOutputs.flatMap(\.events) }
    var clientReceived: [[UInt8]] { clientOutputs.flatMap(\.applicationData) }
    var serverReceived: [[UInt8]] { serverOutputs.flatMap(\.applicationData) }
}

/// Certificates are generated once for the whole test run: key generation is the slow part.
let certificateA = try! DTLSCertificate.generate()
let certificateB = try! DTLSCertificate.generate()

func makeLink(
    clientCertificate: DTLSCertificate = certificateA,
    serverCertificate: DTLSCertificate = certificateB,
    clientKnowsServer: Bool = true,
    serverKnowsClient: Bool = true,
    clientProfiles: [DTLSSRTPProfile] = [.aeadAES128GCM, .aesCM128HmacSHA1_80],
    serverProfiles: [DTLSSRTPProfile] = [.aeadAES128GCM, .aesCM128HmacSHA1_80],
    mtu: Int = 1200,
    initialRetransmissionTimeout: Duration = .seconds(1)
) throws -> Link {
    let client = try DTLSConnection(
        role: .client, certificate: clientCertificate,
        remoteFingerprint: clientKnowsServer ? serverCertificate.fingerprint(.sha256) : nil,
        srtpProfiles: clientProfiles, mtu: mtu, initialRetransmissionTimeout: initialRetransmissionTimeout)
    let server = try DTLSConnection(
        role: .server, certificate: serverCertificate,
        remoteFingerprint: serverKnowsClient ? clientCertificate.fingerprint(.sha256) : nil,
        srtpProfiles: serverProfiles, mtu: mtu, initialRetransmissionTimeout: initialRetransmissionTimeout)
    return Link(client: client, server: server)
}
