/// Timer base values (RFC 3261 §17.1.1.1, Table 4). Tests and fast links may shrink them.
public struct SIPTimerSettings: Sendable, Equatable {
    /// RTT estimate, default 500 ms.
    public var t1: Duration
    /// Longest retransmit interval for non-INVITE requests and INVITE responses, default 4 s.
    public var t2: Duration
    /// Longest time a message stays in the network, default 5 s.
    public var t4: Duration

    public init(t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5)) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }

    /// 64*T1: Timers B, F, H, J, L, M.
    public var transactionTimeout: Duration { t1 * 64 }
}

/// Transaction timers by their RFC names (§17, Table 4; L and M from RFC 6026).
public enum SIPTransactionTimer: String, Sendable, Hashable, CaseIterable {
    case a = "A", b = "B", d = "D", e = "E", f = "F", k = "K", g = "G", h = "H", i = "I", j = "J", l = "L", m = "M"
}

/// What the owner of a transaction must do. `at` is an absolute deadline on the same monotonic
/// time line as the `now` values passed in.
public enum SIPTransactionAction: Sendable, Equatable {
    /// Transmit to the transport (a client's destination, or the server's response target).
    case send(SIPMessage)
    case startTimer(SIPTransactionTimer, at: Duration)
    case cancelTimer(SIPTransactionTimer)
    /// Hand a response (client) or request (server) to the transaction user.
    case passToTU(SIPMessage)
    /// Timer B or F fired (client: the TU acts as if a 408 arrived, §8.1.3.1), or Timer H fired
    /// (server: the ACK never came, §17.2.1).
    case timeout
    /// The transaction is over; the owner forgets it.
    case terminated
}

/// Identifies a transaction (§17.1.3 client, §17.2.3 server): the branch, the Via sent-by (server
/// side) and the method, with ACK matching its INVITE.
public struct SIPTransactionKey: Sendable, Hashable, CustomStringConvertible {
    public var branch: String
    public var sentBy: String
    public var method: SIPMethod
    public var isServer: Bool

    public init(branch: String, sentBy: String, method: SIPMethod, isServer: Bool) {
        self.branch = branch
        self.sentBy = sentBy.lowercased()
        self.method = method == .ack ? .invite : method
        self.isServer = isServer
    }

    /// §17.1.3: a response matches the client transaction with the top Via's branch and the CSeq method.
    public static func client(response message: SIPMessage) throws(SIPParseError) -> SIPTransactionKey {
        guard let via = try message.topVia, let branch = via.branch else {
            throw SIPParseError(.missingHeader("Via"), reason: "Missing Via branch")
        }
        return SIPTransactionKey(branch: branch, sentBy: "", method: try message.cseq.method, isServer: false)
    }

    /// Key for a request we send: our own top Via branch and the method.
    public static func client(request message: SIPMessage) throws(SIPParseError) -> SIPTransactionKey {
        guard let via = try message.topVia, let branch = via.branch else {
            throw SIPParseError(.missingHeader("Via"), reason: "Missing Via branch")
        }
        let method: SIPMethod = if let m = message.method { m } else { try message.cseq.method }
        return SIPTransactionKey(branch: branch, sentBy: "", method: method, isServer: false)
    }

    /// §17.2.3: branch (with the z9hG4bK cookie), sent-by and method (ACK matching INVITE). Requests
    /// from RFC 2543 elements (no cookie) need the older matching of §17.2.3's second half, which
    /// is not implemented.
    public static func server(request message: SIPMessage) throws(SIPParseError) -> SIPTransactionKey {
        guard let via = try message.topVia else { throw SIPParseError(.missingHeader("Via"), reason: "Missing Via") }
        guard let branch = via.branch, branch.hasPrefix(SIPVia.magicCookie) else {
            throw SIPParseError(.unsupported("RFC 2543 transaction matching"), reason: "Via branch without RFC 3261 magic cookie")
        }
        let method: SIPMethod = if let m = message.method { m } else { try message.cseq.method }
        return SIPTransactionKey(branch: branch, sentBy: via.sentBy, method: method, isServer: true)
    }

    public var description: String { "\(isServer ? "server" : "client") \(method) \(branch)" }
}

/// Builds a response to `request` copying Via, From, To, Call-ID, CSeq (RFC 3261 §8.2.6.2), and
/// adding `toTag` to To when given and absent.
public func SIPMakeResponse(to request: SIPMessage, status: Int, reason: String? = nil, toTag: String? = nil) -> SIPMessage {
    var headers = SIPHeaders()
    for value in request.headers.fieldValues("Via") { headers.add("Via", value) }
    if let from = request.headers["From"] { headers.add("From", from) }
    if var to = request.headers["To"] {
        if let toTag, status != 100, var address = try? SIPNameAddress(to, header: "To"), address.tag == nil {
            address.tag = toTag
            to = address.description
        }
        headers.add("To", to)
    }
    if let callID = request.headers["Call-ID"] { headers.add("Call-ID", callID) }
    if let cseq = request.headers["CSeq"] { headers.add("CSeq", cseq) }
    // §8.2.6.1: a 100 copies Timestamp.
    if status == 100, let timestamp = request.headers["Timestamp"] { headers.add("Timestamp", timestamp) }
    return .response(status, reason, headers: headers)
}
