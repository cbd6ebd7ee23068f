import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

/// Runs a shell command; returns its exit status.
func shell(_ command: String) -> Int32 {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command + " </dev/null >/dev/null 2>&1"), nil]
    defer { for arg in argv { free(arg) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return status
}

/// A self-signed certificate and key made with openssl for one test.
func makeSelfSigned(_ name: String) throws -> (cert: String, key: String) {
    let directory = NSTemporaryDirectory() + "xmpplink-peer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let cert = directory + "/\(name).crt", key = directory + "/\(name).key"
    let status = shell("mkdir -p '\(directory)' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=\(name)' -keyout '\(key)' -out '\(cert)'")
    try #require(status == 0, "openssl could not make a certificate")
    return (cert, key)
}

@Suite(.timeLimit(.minutes(1))) struct PeerLinkTLSTests {
    @Test func pinnedCertificatesOnBothSides() async throws {
        let a = try makeSelfSigned("alice"), b = try makeSelfSigned("bob")
        let aPin = try XMPPPeerTLS.fingerprint(certificateFile: a.cert), bPin = try XMPPPeerTLS.fingerprint(certificateFile: b.cert)
        #expect(aPin.count == 32 && aPin != bPin)
        let alice = try JID("alice@laptop"), bob = try JID("bob@desktop")
        let listener = try await XMPPPeerLink.listen(local: bob, tls: XMPPPeerTLS(certificateFile: b.cert, privateKeyFile: b.key, peerCertificateSHA256: aPin))
        async let accepted = listener.accept()
        let initiator = try await XMPPPeerLink.connect(local: alice, remote: bob, host: "127.0.0.1", port: listener.port,
                                                       tls: XMPPPeerTLS(certificateFile: a.cert, privateKeyFile: a.key, peerCertificateSHA256: bPin))
        let responder = try await accepted
        await responder.register(iqHandler: echoNamespace) { _ in XMLElement("echo", namespace: echoNamespace, text: "over TLS") }
        let result = try await initiator.sendIQ(IQ(type: .get, id: "t1", payload: XMLElement("echo", namespace: echoNamespace)), timeout: .seconds(5))
        #expect(result.payload?.text == "over TLS")
        await initiator.close()
        await responder.close()
        listener.close()
    }

    @Test func wrongPinIsRefused() async throws {
        let a = try makeSelfSigned("alice"), b = try makeSelfSigned("bob"), mallory = try makeSelfSigned("mallory")
        let aPin = try XMPPPeerTLS.fingerprint(certificateFile: a.cert)
        let malloryPin = try XMPPPeerTLS.fingerprint(certificateFile: mallory.cert)
        let alice = try JID("alice@laptop"), bob = try JID("bob@desktop")
        let listener = try await XMPPPeerLink.listen(local: bob, tls: XMPPPeerTLS(certificateFile: b.cert, privateKeyFile: b.key, peerCertificateSHA256: aPin))
        let responderTask = Task { try await listener.accept() }
        do {
            // Alice expects Mallory's certificate, so Bob's is refused.
            _ = try await XMPPPeerLink.connect(local: alice, remote: bob, host: "127.0.0.1", port: listener.port,
                                               tls: XMPPPeerTLS(certificateFile: a.cert, privateKeyFile: a.key, peerCertificateSHA256: malloryPin))
            Issue.record("connected despite a wrong pin")
        } catch let error as XMPPLinkError {
            switch error {
            case .tlsFailed, .connectionLost: break
            default: Issue.record("unexpected \(error)")
            }
        }
        await #expect(throws: XMPPLinkError.self) { try await responderTask.value }
        listener.close()
    }
}

extension StreamMachineTests {
    /// XEP-0174 §3.3 with TLS: the responder offers required STARTTLS; both restart over TLS.
    @Test func peerMachinesNegotiateTLS() throws {
        let alice = try JID("alice@host-a"), bob = try JID("bob@host-b")
        let initiator = XMPPStreamDriver(role: .peer(local: alice, remote: bob, initiator: true, tls: true))
        let responder = XMPPStreamDriver(role: .peer(local: bob, remote: nil, initiator: false, tls: true))
        _ = responder.start()
        let offer = sent(dripFeed(responder, sent(initiator.start())))
        #expect(offer.contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"))
        let request = sent(dripFeed(initiator, offer))
        #expect(request == "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        let proceed = dripFeed(responder, request)
        #expect(proceed == [.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), .startTLS])
        #expect(dripFeed(initiator, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") == [.startTLS])
        #expect(try responder.perform { $0.tlsEstablished() }.isEmpty)
        let header = sent(try initiator.perform { $0.tlsEstablished() })
        let answer = dripFeed(responder, header)
        #expect(sent(answer).hasSuffix("<stream:features/>"))
        #expect(responder.machine.isEstablished)
        _ = dripFeed(initiator, sent(answer))
        #expect(initiator.machine.isEstablished)
    }

    @Test func peerInitiatorRequiresTLSOffer() throws {
        let initiator = XMPPStreamDriver(role: .peer(local: try JID("a@x"), remote: try JID("b@y"), initiator: true, tls: true))
        _ = initiator.start()
        let actions = dripFeed(initiator, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='b@y' version='1.0'><stream:features/>")
        #expect(actions.last == .fail(.tlsUnavailable))
    }
}
