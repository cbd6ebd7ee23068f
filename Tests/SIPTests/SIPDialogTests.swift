import Testing
@testable import SIP

@Suite("SIP dialogs")
struct SIPDialogTests {
    func invite() -> SIPMessage {
        var request = makeRequest(.invite, cseq: 7)
        request.headers.add("Record-Route", "<sip:p1.example.org;lr>")
        return request
    }

    func ok(recordRoutes: [String], contact: String = "<sip:bob@192.0.2.20:5090>") -> SIPMessage {
        var response = SIPMakeResponse(to: makeRequest(.invite, cseq: 7), status: 200, toTag: "b2")
        for route in recordRoutes { response.headers.add("Record-Route", route) }
        response.headers.add("Contact", contact)
        return response
    }

    /// §12.1.2: the UAC's route set is the Record-Route list reversed; the target is the Contact.
    @Test func uacDialogRouteSetAndRequests() throws {
        var dialog = try SIPDialog(uacRequest: makeRequest(.invite, cseq: 7),
                                   response: ok(recordRoutes: ["<sip:p2.example.org;lr>, <sip:p1.example.org;lr>"]))
        #expect(dialog.id == SIPDialogID(callID: "call-1@127.0.0.1", localTag: "a1", remoteTag: "b2"))
        #expect(dialog.state == .confirmed)
        #expect(dialog.routeSet.map(\.uri.host) == ["p1.example.org", "p2.example.org"])
        #expect(dialog.remoteTarget.host == "192.0.2.20")
        #expect(dialog.nextHop.host == "p1.example.org")

        let bye = dialog.makeRequest(.bye)
        #expect(try bye.cseq == SIPCSeq(8, .bye))
        #expect(bye.requestURI?.host == "192.0.2.20")
        #expect(try bye.routes.map(\.uri.host) == ["p1.example.org", "p2.example.org"])
        #expect(try bye.to.tag == "b2")
        #expect(try bye.from.tag == "a1")
        let info = dialog.makeRequest(.info, body: Array("a=candidate".utf8), contentType: "application/sdpfrag")
        #expect(try info.cseq.number == 9)
        #expect(info.contentType == "application/sdpfrag")

        // §13.2.2.4: the ACK reuses the INVITE's CSeq number.
        let ack = dialog.makeACK(inviteSequence: 7)
        #expect(try ack.cseq == SIPCSeq(7, .ack))
        #expect(dialog.localSequence == 9)
    }

    /// §12.1.1: the UAS keeps the Record-Route order and takes the caller's CSeq as remote sequence.
    @Test func uasDialogChecksCSeqAndRefreshesTarget() throws {
        let request = invite()
        var response = SIPMakeResponse(to: request, status: 200, toTag: "b2")
        response.headers.add("Contact", "<sip:bob@127.0.0.1:5080>")
        var dialog = try SIPDialog(uasRequest: request, response: response)
        #expect(dialog.id == SIPDialogID(callID: "call-1@127.0.0.1", localTag: "b2", remoteTag: "a1"))
        #expect(dialog.remoteSequence == 7)
        #expect(dialog.routeSet.map(\.uri.host) == ["p1.example.org"])
        #expect(try dialog.makeRequest(.bye).cseq.number == 1)

        var reinvite = makeRequest(.invite, cseq: 8, toTag: "b2")
        reinvite.headers.set("Contact", "<sip:alice@192.0.2.99:6000>")
        try dialog.receiveRequest(reinvite)
        #expect(dialog.remoteTarget.host == "192.0.2.99")
        #expect(dialog.remoteSequence == 8)
        #expect(throws: SIPDialogError.cseqOutOfOrder(received: 8, last: 8)) { try dialog.receiveRequest(reinvite) }
        #expect(SIPDialogError.cseqOutOfOrder(received: 8, last: 8).responseStatus == 500)
    }

    /// §12.2.1.1: a strict router (no `lr`) becomes the Request-URI; the remote target goes last.
    @Test func strictRouting() throws {
        var dialog = try SIPDialog(uacRequest: makeRequest(.invite), response: ok(recordRoutes: ["<sip:strict.example.org>"]))
        let bye = dialog.makeRequest(.bye)
        #expect(bye.requestURI?.host == "strict.example.org")
        #expect(try bye.routes.map(\.uri.host) == ["192.0.2.20"])
    }

    @Test func earlyDialogFromRinging() throws {
        var ringing = SIPMakeResponse(to: makeRequest(.invite), status: 180, toTag: "b2")
        ringing.headers.add("Contact", "<sip:bob@127.0.0.1:5080>")
        var dialog = try SIPDialog(uacRequest: makeRequest(.invite), response: ringing)
        #expect(dialog.state == .early)
        dialog.receiveResponse(ok(recordRoutes: []), to: .invite)
        #expect(dialog.state == .confirmed)
        #expect(dialog.remoteTarget.host == "192.0.2.20")
        #expect(throws: SIPDialogError.invalidMessage("response without To tag")) {
            try SIPDialog(uacRequest: makeRequest(.invite), response: SIPMakeResponse(to: makeRequest(.invite), status: 180))
        }
    }
}
