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

    /// ejabberd storing SCRAM-SHA-512 credentials offers SCRAM-SHA-512 and PLAIN only. Without TLS the client
    /// must not send PLAIN, so logging in proves the SCRAM-SHA-512 exchange, checked by the server (client
    /// proof) and by the client (server signature). Before, this failed with "no acceptable SASL mechanism".
    @Test(.timeLimit(.minutes(1))) func scramSHA512Login() async throws {
        let server = try EjabberdServer(tls: false, scramHash: "sha512")
        defer { server.stop() }
        var configuration = XMPPClientConfiguration(jid: try JID("alice@localhost"), password: "alicepw", host: "127.0.0.1", port: server.c2sPort)
        configuration.tls = .disabled
        let client = XMPPClient(configuration)
        let jid = try await client.connect()
        #expect(jid.bare == (try JID("alice@localhost")))
        await client.close()

        var wrong = configuration
        wrong.password = "not-the-password"
        let refused = XMPPClient(wrong)
        await #expect(throws: XMPPLinkError.self) { _ = try await refused.connect() }
        await refused.close()
    }
}
