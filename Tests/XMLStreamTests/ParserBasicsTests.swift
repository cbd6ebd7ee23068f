import Testing
@testable import XMLStream

@Test func parsesAStreamWithOneStanza() throws {
    let parser = XMLStreamParser()
    let events = try parser.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'><message to='a@b'><body>hi &amp; bye</body></message></stream:stream>")
    #expect(events.count == 3)
    guard case .streamOpened(let header) = events[0], case .element(let message) = events[1] else {
        Issue.record("unexpected events \(events)"); return
    }
    #expect(header.name == "stream" && header.namespace == "http://etherx.jabber.org/streams" && header[attribute: "id"] == "x")
    #expect(message.namespace == "jabber:client")
    #expect(message.child("body")?.text == "hi & bye")
    #expect(events[2] == .streamClosed)
}
