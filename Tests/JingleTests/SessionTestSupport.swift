import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

let alice = jid("alice@localhost/a")
let bob = jid("bob@localhost/b")
let mallory = jid("mallory@localhost/m")
let t0 = ContinuousClock.now

func audioContent(_ name: String = "voice", creator: JingleRole = .initiator, senders: JingleSenders? = nil) -> JingleContent {
    JingleContent(creator: creator, name: name, senders: senders,
                  description: RTPDescription(media: "audio", payloadTypes: [RTPPayloadType(id: 111, name: "opus", clockrate: 48000, channels: 2),
                                                                             RTPPayloadType(id: 0, name: "PCMU", clockrate: 8000)], rtcpMux: true),
                  transport: iceTransport())
}

func videoContent(_ name: String = "webcam", creator: JingleRole = .initiator) -> JingleContent {
    JingleContent(creator: creator, name: name,
                  description: RTPDescription(media: "video", payloadTypes: [RTPPayloadType(id: 96, name: "VP8", clockrate: 90000,
                                                                                            rtcpFeedback: [RTCPFeedback(type: "nack", subtype: "pli")])], rtcpMux: true),
                  transport: iceTransport())
}

func iceTransport(candidates: [ICECandidate] = []) -> ICEUDPTransport {
    ICEUDPTransport(ufrag: "8hhy", pwd: "asd88fgpdd777uzjYhagZg", candidates: candidates,
                    fingerprints: [DTLSFingerprint(hash: "sha-256", setup: .actpass, value: "02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2")])
}

func hostCandidate(_ port: UInt16) -> ICECandidate {
    ICECandidate(component: 1, foundation: "1", id: "c\(port)", ip: "127.0.0.1", network: 0, port: port, priority: 2130706431, type: .host)
}

func fileContent(name: String = "a-file", senders: JingleSenders, file: FileTransferFile, transport: any JingleTransportMethod) -> JingleContent {
    JingleContent(creator: .initiator, name: name, senders: senders, description: FileTransferDescription(file: file), transport: transport)
}

/// The stanza error of a reply, with its Jingle condition.
struct ErrorShape: Equatable, CustomStringConvertible {
    var type: StanzaError.ErrorType
    var condition: StanzaError.Condition
    var jingle: JingleErrorCondition?

    static func jingle(_ c: JingleErrorCondition) -> ErrorShape { ErrorShape(type: c.errorType, condition: c.stanzaCondition, jingle: c) }
    static let badRequest = ErrorShape(type: .modify, condition: .badRequest, jingle: nil)

    var description: String { "\(type.rawValue)/\(condition.rawValue)\(jingle.map { "+" + $0.rawValue } ?? "")" }
}

/// What a single answer to a request was.
enum Answer: Equatable, CustomStringConvertible {
    case result
    case error(ErrorShape)

    var description: String {
        switch self {
        case .result: "result"
        case .error(let e): e.description
        }
    }
}

/// The one reply in `actions` to the request `iq`, checked for id and addressing.
func answer(to iq: IQ, in actions: [JingleAction]) -> Answer? {
    let replies = actions.compactMap { if case .reply(let r) = $0 { r } else { nil } }
    guard replies.count == 1, let reply = replies.first, reply.id == iq.id, reply.to == iq.from, reply.from == iq.to else { return nil }
    switch reply.type {
    case .result: return .result
    case .error:
        guard let e = reply.error else { return nil }
        return .error(ErrorShape(type: e.type, condition: e.condition, jingle: JingleErrorCondition(e)))
    case .get, .set: return nil
    }
}

func sentIQs(_ actions: [JingleAction]) -> [IQ] {
    actions.compactMap { if case .send(let iq) = $0 { iq } else { nil } }
}

func events(_ actions: [JingleAction]) -> [JingleEvent] {
    actions.compactMap { if case .event(_, let e) = $0 { e } else { nil } }
}

func requireNoThrow<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> T? {
    do { return try body() } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Two session managers joined by an in-memory "network": each `.send`/`.reply` of one side is delivered to the
/// other's `receive`, in order unless a test picks another order.
struct PairedPeers {
    struct Side {
        var manager: JingleSessionManager
        var events: [JingleEvent] = []
        var errorReplies: [IQ] = []
        var armedTimers: Set<JingleTimer> = []
    }

    var sides: [JID: Side]
    /// Stanzas on the wire: (recipient, stanza).
    var inFlight: [(to: JID, iq: IQ)] = []
    var now = t0

    init() {
        sides = [
            alice: Side(manager: JingleSessionManager(local: alice, ids: SequentialIDGenerator(prefix: "a"), sessionIDs: SequentialIDGenerator(prefix: "sid-a"))),
            bob: Side(manager: JingleSessionManager(local: bob, ids: SequentialIDGenerator(prefix: "b"), sessionIDs: SequentialIDGenerator(prefix: "sid-b"))),
        ]
    }

    mutating func absorb(_ actions: [JingleAction], at who: JID) {
        for action in actions {
            switch action {
            case .send(let iq), .reply(let iq):
                guard let to = iq.to else { Issue.record("stanza without to"); continue }
                if iq.type == .error { sides[who]?.errorReplies.append(iq) }
                inFlight.append((to, iq))
            case .scheduleTimer(let t, _): sides[who]?.armedTimers.insert(t)
            case .cancelTimer(let t): sides[who]?.armedTimers.remove(t)
            case .event(let session, let e):
                let peer = who == alice ? bob : alice
                if session.peer != peer { Issue.record("event for \(session) at \(who)") }
                sides[who]?.events.append(e)
            }
        }
    }

    /// Runs a manager operation on one side and puts its actions on the wire.
    mutating func act(_ who: JID, _ body: (inout JingleSessionManager) throws -> [JingleAction]) rethrows {
        guard var side = sides[who] else { return }
        let actions = try body(&side.manager)
        sides[who] = side
        absorb(actions, at: who)
    }

    /// Delivers the stanza at `index` of the wire.
    mutating func deliver(at index: Int) {
        let (to, iq) = inFlight.remove(at: index)
        guard var side = sides[to] else { return }
        let actions = side.manager.receive(iq, now: now)
        sides[to] = side
        absorb(actions, at: to)
    }

    /// Delivers everything, oldest first, until the wire is quiet.
    mutating func deliverAll() {
        var guardCount = 0
        while !inFlight.isEmpty && guardCount < 1000 {
            deliver(at: 0)
            guardCount += 1
        }
    }

    func session(_ who: JID, sid: String) -> JingleSession? {
        let peer = who == alice ? bob : alice
        return sides[who]?.manager.session(peer: peer, sid: sid)
    }

    func errors(_ who: JID) -> [IQ] { sides[who]?.errorReplies ?? [] }
    func events(_ who: JID) -> [JingleEvent] { sides[who]?.events ?? [] }

    /// Actions the peer received and accepted, in order.
    func receivedActions(_ who: JID) -> [JingleWireAction] {
        events(who).compactMap { if case .received(let p) = $0 { p.action } else { nil } }
    }
}
