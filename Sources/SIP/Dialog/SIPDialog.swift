/// Identifies a dialog (RFC 3261 §12): Call-ID, local tag, remote tag.
public struct SIPDialogID: Sendable, Hashable, CustomStringConvertible {
    public var callID: String
    public var localTag: String
    public var remoteTag: String

    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// The dialog an incoming request belongs to: its To tag is ours, its From tag the peer's (§12.2.2).
    public init?(incomingRequest request: SIPMessage) {
        guard let callID = try? request.callID, let localTag = try? request.to.tag, let remoteTag = try? request.from.tag else { return nil }
        self.init(callID: callID, localTag: localTag, remoteTag: remoteTag)
    }

    public var description: String { "\(callID);local=\(localTag);remote=\(remoteTag)" }
}

/// Errors of dialog handling; each maps to the response a UAS sends.
public enum SIPDialogError: Error, Sendable, Equatable {
    /// The message lacks what a dialog needs (To tag, Contact …).
    case invalidMessage(String)
    /// §12.2.2: CSeq lower than the last one from the peer; answer 500.
    case cseqOutOfOrder(received: UInt32, last: UInt32)

    public var responseStatus: Int {
        switch self {
        case .invalidMessage: 400
        case .cseqOutOfOrder: 500
        }
    }
}

/// Dialog state (RFC 3261 §12.1): identifiers, sequence numbers, remote target and route set.
/// Builds in-dialog requests (§12.2.1.1) and the ACK for a 2xx (§13.2.2.4); checks and absorbs
/// in-dialog requests from the peer (§12.2.2).
public struct SIPDialog: Sendable, Equatable {
    public enum State: Sendable, Equatable { case early, confirmed }

    public let id: SIPDialogID
    public private(set) var state: State
    /// Our URI with our tag (From of requests we send).
    public let localAddress: SIPNameAddress
    /// The peer's URI with its tag (To of requests we send).
    public let remoteAddress: SIPNameAddress
    public private(set) var localSequence: UInt32
    public private(set) var remoteSequence: UInt32?
    /// Contact of the peer; Request-URI of our requests (§12.2.1.1).
    public private(set) var remoteTarget: SIPURI
    /// Record-Route values, in the order to put in Route (§12.1.1 UAS: as received; §12.1.2 UAC: reversed).
    public let routeSet: [SIPNameAddress]
    public let isSecure: Bool

    /// §12.1.2: the UAC side, from the request we sent and a 1xx (with To tag) or 2xx response.
    public init(uacRequest request: SIPMessage, response: SIPMessage) throws(SIPDialogError) {
        guard let code = response.statusCode, (101..<300).contains(code) else { throw .invalidMessage("response cannot create a dialog") }
        do {
            guard let remoteTag = try response.to.tag else { throw SIPDialogError.invalidMessage("response without To tag") }
            guard let localTag = try request.from.tag else { throw SIPDialogError.invalidMessage("request without From tag") }
            id = SIPDialogID(callID: try request.callID, localTag: localTag, remoteTag: remoteTag)
            localAddress = try request.from
            remoteAddress = try response.to
            localSequence = try request.cseq.number
            remoteSequence = nil
            // A 1xx may lack Contact; the request URI stands in until one arrives.
            remoteTarget = try response.contacts.first?.uri ?? (request.requestURI ?? SIPURI(host: "invalid"))
            routeSet = try response.recordRoutes.reversed()
            isSecure = request.requestURI?.scheme == .sips
        } catch let error as SIPDialogError {
            throw error
        } catch {
            throw .invalidMessage("\(error)")
        }
        state = code >= 200 ? .confirmed : .early
    }

    /// §12.1.1: the UAS side, from the request received and the response (with our To tag) we send.
    public init(uasRequest request: SIPMessage, response: SIPMessage) throws(SIPDialogError) {
        guard let code = response.statusCode, (101..<300).contains(code) else { throw .invalidMessage("response cannot create a dialog") }
        do {
            guard let localTag = try response.to.tag else { throw SIPDialogError.invalidMessage("response without To tag") }
            guard let remoteTag = try request.from.tag else { throw SIPDialogError.invalidMessage("request without From tag") }
            id = SIPDialogID(callID: try request.callID, localTag: localTag, remoteTag: remoteTag)
            localAddress = try response.to
            remoteAddress = try request.from
            // §12.1.1: the local sequence number starts empty; pick a start for our own requests.
            localSequence = 0
            remoteSequence = try request.cseq.number
            guard let contact = try request.contacts.first?.uri else { throw SIPDialogError.invalidMessage("INVITE without Contact") }
            remoteTarget = contact
            routeSet = try request.recordRoutes
            isSecure = request.requestURI?.scheme == .sips
        } catch let error as SIPDialogError {
            throw error
        } catch {
            throw .invalidMessage("\(error)")
        }
        state = code >= 200 ? .confirmed : .early
    }

    public mutating func confirm() { state = .confirmed }

    /// §12.2.1.1: a new request in the dialog (not ACK, not CANCEL). CSeq is incremented. The
    /// caller adds Via, Contact and any other header.
    public mutating func makeRequest(_ method: SIPMethod, body: [UInt8] = [], contentType: String? = nil) -> SIPMessage {
        precondition(method != .ack && method != .cancel, "ACK and CANCEL reuse the CSeq of their INVITE")
        localSequence += 1
        return buildRequest(method, cseq: localSequence, body: body, contentType: contentType)
    }

    /// Bumps the local CSeq and returns it, e.g. for a request re-sent with credentials.
    public mutating func nextLocalSequence() -> UInt32 {
        localSequence += 1
        return localSequence
    }

    /// §13.2.2.4: ACK for a 2xx to INVITE with CSeq `inviteSequence`; same CSeq number, method ACK.
    public func makeACK(inviteSequence: UInt32, body: [UInt8] = [], contentType: String? = nil) -> SIPMessage {
        buildRequest(.ack, cseq: inviteSequence, body: body, contentType: contentType)
    }

    /// Where the request goes: the first route if loose routing, else the Request-URI (§12.2.1.1, §8.1.2).
    public var nextHop: SIPURI {
        routeSet.first?.uri ?? remoteTarget
    }

    private func buildRequest(_ method: SIPMethod, cseq: UInt32, body: [UInt8], contentType: String?) -> SIPMessage {
        var headers = SIPHeaders()
        var requestURI = remoteTarget
        var routes = routeSet
        // §12.2.1.1: strict router (no lr) at the head of the route set: its URI becomes the
        // Request-URI and the remote target goes last.
        if let first = routeSet.first, !first.uri.parameters.contains("lr") {
            requestURI = first.uri
            requestURI.headers = []
            routes.removeFirst()
            routes.append(SIPNameAddress(uri: remoteTarget))
        }
        for route in routes { headers.add("Route", route.description) }
        headers.add("Max-Forwards", "70")
        headers.add("From", localAddress.description)
        headers.add("To", remoteAddress.description)
        headers.add("Call-ID", id.callID)
        headers.add("CSeq", SIPCSeq(cseq, method).description)
        if let contentType, !body.isEmpty { headers.add("Content-Type", contentType) }
        return .request(method, uri: requestURI, headers: headers, body: body)
    }

    /// §12.2.2: checks a request from the peer. Lower CSeq → error (answer 500); a target refresh
    /// (re-INVITE, UPDATE) with Contact replaces the remote target. ACK and CANCEL carry the INVITE's
    /// CSeq and are not checked.
    public mutating func receiveRequest(_ request: SIPMessage) throws(SIPDialogError) {
        guard let method = request.method, method != .ack, method != .cancel else { return }
        guard let cseq = try? request.cseq.number else { throw .invalidMessage("bad CSeq") }
        if let remoteSequence, cseq <= remoteSequence {
            throw .cseqOutOfOrder(received: cseq, last: remoteSequence)
        }
        remoteSequence = cseq
        if method == .invite || method == .update, let contact = try? request.contacts.first?.uri {
            remoteTarget = contact
        }
    }

    /// A 2xx to a target refresh we sent updates the remote target (§12.2.1.2); a 2xx to the
    /// initial INVITE confirms an early dialog.
    public mutating func receiveResponse(_ response: SIPMessage, to method: SIPMethod) {
        guard let code = response.statusCode, (200..<300).contains(code) else { return }
        if method == .invite {
            state = .confirmed
            if let contact = try? response.contacts.first?.uri { remoteTarget = contact }
        }
    }
}
