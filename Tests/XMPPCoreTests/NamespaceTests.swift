import Testing
@testable import XMPPCore

@Test func namespacesAreDistinct() {
    let all = [NS.client, NS.stream, NS.jingle, NS.jingleICEUDP, NS.jingleDTLS, NS.jingleFileTransfer]
    #expect(Set(all).count == all.count)
}
