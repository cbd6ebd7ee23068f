import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

/// Replays a session recorded from Prosody 0.12 (SCRAM-SHA-256, bind, XEP-0198 enable, close) through the
/// pure machine, every server byte alone. The recording was made with the client nonce fixed, so the
/// machine must produce exactly the bytes the real client sent, and the real server signature must verify.
@Suite struct RecordedSessionTests {
    struct Chunk: Decodable {
        var dir: String
        var text: String
    }

    @Test func prosodySessionReplaysByteByByte() throws {
        let url = try #require(Bundle.module.url(forResource: "prosody-0.12-c2s-scram-sm", withExtension: "json", subdirectory: "Fixtures"))
        let chunks = try JSONDecoder().decode([Chunk].self, from: Data(contentsOf: url))
        var options = XMPPStreamMachine.ClientOptions(jid: try JID("alice@localhost"), password: "alicepw", resource: "rec", tls: .disabled)
        options.clientNonce = "c3dpZnRqaW5nbGUtZml4ZWQtbm9uY2U"
        let driver = XMPPStreamDriver(role: .client(options))

        var produced = sent(driver.start())
        var expected = ""
        var established: XMPPStreamMachine.Established?
        var sawClosed = false
        for chunk in chunks {
            if chunk.dir == "out" {
                expected += chunk.text
                continue
            }
            #expect(produced == expected)
            produced = ""
            expected = ""
            if chunk.text.contains("</stream:stream>") {
                // The recorded client closed first; do the same before the server's closing tag.
                #expect(sent(try driver.perform { $0.close() }) == "<a xmlns='urn:xmpp:sm:3' h='0'/></stream:stream>")
            }
            let actions = dripFeed(driver, chunk.text)
            produced = sent(actions)
            for action in actions {
                if case .established(let info) = action { established = info }
                if case .closed = action { sawClosed = true }
                if case .fail(let error) = action { Issue.record("replay failed: \(error)") }
            }
        }
        #expect(produced == expected)
        #expect(established?.jid == (try JID("alice@localhost/rec")))
        #expect(established?.resumable == true)
        #expect(established?.features?.capsVersion == "8ZabaZ1muFPyfPfVZsdaw2IkeUI=")
        #expect(sawClosed)
        #expect(driver.machine.isClosed)
    }
}
