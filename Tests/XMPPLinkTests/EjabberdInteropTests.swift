import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestServers
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

@Suite struct EjabberdInteropTests {
    /// The same client against a second server implementation: STARTTLS, SCRAM, bind, XEP-0198, disco, IQ.
    @Test(.timeLimit(.minutes(1))) func loginAndIQRoundTrip() async throws {
        let server = try EjabberdServer(tls: true)
        defer { server.stop() }

        func configuration(_ user: String) throws -> XMPPClientConfiguration {
            var configuration = XMPPClientConfiguration(jid: try JID("\(user)@localhost"), password: "\(user)pw",
                                                        host: "127.0.0.1", port: server.c2sPort)
            configuration.trust = .caFile(server.caFile)
            return configuration
        }
        let alice = XMPPClient(try configuration("alice"))
        let aliceJID = try await alice.connect()
        #expect(aliceJID.bare == (try JID("alice@localhost")))
        #expect(await alice.streamManagementResumable)
        let bob = XMPPClient(try configuration("bob"))
        let bobJID = try await bob.connect()
        await bob.register(iqHandler: echoNamespace) { _ in XMLElement("echo", namespace: echoNamespace, text: "ejabberd ok") }
        let result = try await alice.sendIQ(IQ(type: .get, id: "ej1", to: bobJID, payload: XMLElement("echo", namespace: echoNamespace)),
                                            timeout: .seconds(5))
        #expect(result.payload?.text == "ejabberd ok")
        let services = try await alice.externalServices()
        #expect(services.contains { $0.type == "turn" && $0.username != nil && $0.password != nil })
        await alice.close()
        await bob.close()
    }
}
