import ICE
import Jingle
import XMPPCore

/// What a transfer did on the signalling path, reported through `FileTransferOptions.observer`.
public enum FileTransferSignal: Sendable, Hashable {
    /// Our session-initiate went out with `candidates` local candidates; `gatheringDone` tells whether local
    /// gathering had already finished for every content (with trickle it usually has not).
    case sessionInitiate(candidates: Int, gatheringDone: Bool)
    /// Our session-accept went out (same meaning).
    case sessionAccept(candidates: Int, gatheringDone: Bool)
    /// A transport-info carried `candidates` further local candidates of `content` (XEP-0176 §5.3).
    case transportInfo(content: String, candidates: Int)
    /// Local gathering finished for `content`.
    case gatheringDone(content: String)
    /// Our S5B report for `content` went out: `candidate-used` with `used`, or `candidate-error` when nil
    /// (XEP-0260 §2.3).
    case s5bReport(content: String, used: String?)
    /// The S5B candidate `cid` of `type` carries `content` (XEP-0260 §2.4 nomination).
    case s5bNominated(content: String, cid: String, type: S5BCandidate.CandidateType)
    /// We activated our proxy candidate `cid` at `proxy` (XEP-0260 §2.4, XEP-0065 §6.3.2).
    case s5bProxyActivated(content: String, cid: String, proxy: JID)
    /// The nominated proxy candidate `cid` could not be used: our activation failed (we sent `<proxy-error/>`)
    /// or the peer sent `<proxy-error/>` (XEP-0260 §2.4); the transfer falls back to IBB.
    case s5bProxyFailed(content: String, cid: String, reason: String)
}

/// One content whose local candidates are trickled.
struct TrickledContent: Sendable {
    let creator: JingleRole
    let name: String
    let transport: ICEContentTransport
    /// Prefix of the candidate ids we make up (unique within the session).
    let idPrefix: String
    /// What the session-initiate or session-accept already carried.
    let sent: [Jingle.ICECandidate]
}

/// Sends local ICE candidates in transport-info as libnice finds them (XEP-0176 §5.3, in the spirit of
/// RFC 8838), so the session-initiate and session-accept need not wait for gathering to finish.
///
/// XEP-0176 has no end-of-candidates element (XEP-0371, which has one, is deferred), so the end of our
/// gathering is not signalled; the peer's ICE agent simply keeps checking what it has. Remote candidates
/// may arrive at any time and in any order: `ICEContentTransport.connect` hands every transport-info to the
/// agent, which holds candidates back until the credentials are known.
final class CandidateTrickler: Sendable {
    private let task: Task<Void, Never>

    /// Starts trickling once `action` (our session-initiate or session-accept) was acknowledged, so a
    /// transport-info can never overtake the stanza that creates the session or its contents at the peer.
    init(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, after action: JingleWireAction,
         contents: [TrickledContent], observer: (@Sendable (FileTransferSignal) -> Void)?) {
        task = Task {
            while !events.contains({ if case .acknowledged(action, _) = $0 { true } else { false } }) {
                if Task.isCancelled || events.endReason() != nil { return }
                try? await Task.sleep(for: .milliseconds(5))
            }
            var sent = contents.map { Set($0.sent.map(Self.key)) }
            var counters = contents.map(\.sent.count)
            var finished = [Bool](repeating: false, count: contents.count)
            while !Task.isCancelled, finished.contains(false), events.endReason() == nil {
                for (i, content) in contents.enumerated() where !finished[i] {
                    let log = content.transport.log.snapshot()
                    var fresh: [Jingle.ICECandidate] = []
                    for event in log {
                        guard case .localCandidate(let candidate, _) = event else { continue }
                        var mapped = TransportMapping.jingleCandidate(candidate, id: "")
                        guard sent[i].insert(Self.key(mapped)).inserted else { continue }
                        mapped.id = "\(content.idPrefix)\(counters[i])"
                        counters[i] += 1
                        fresh.append(mapped)
                    }
                    if !fresh.isEmpty {
                        guard let credentials = try? await content.transport.agent.localCredentials(stream: content.transport.stream) else { return }
                        let transport = ICEUDPTransport(ufrag: credentials.ufrag, pwd: credentials.pwd, candidates: fresh)
                        let info = JingleContent(creator: content.creator, name: content.name, transport: transport)
                        do { try await engine.sendTransportInfo(id, contents: [info]) } catch { return }
                        observer?(.transportInfo(content: content.name, candidates: fresh.count))
                    }
                    if log.contains(where: { if case .gatheringDone = $0 { true } else { false } }) {
                        finished[i] = true
                        observer?(.gatheringDone(content: content.name))
                    }
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    func stop() { task.cancel() }

    /// Whether every content's local gathering has finished (for the observer).
    static func gatheringDone(_ transports: [ICEContentTransport]) -> Bool {
        transports.allSatisfy { t in t.log.snapshot().contains { if case .gatheringDone = $0 { true } else { false } } }
    }

    /// A candidate's identity regardless of the id we gave it.
    static func key(_ c: Jingle.ICECandidate) -> String {
        "\(c.component) \(c.protocol) \(c.ip) \(c.port) \(c.type.rawValue)"
    }
}

extension CandidateTrickler {
    /// Reports the session-initiate or session-accept `sent` (whose contents carry our transports, in the
    /// order of `transports`) and starts trickling the candidates gathered after it.
    static func start(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, sent action: JingleWireAction,
                      contents: [JingleContent], transports: [ICEContentTransport?], options: FileTransferOptions) -> CandidateTrickler {
        var trickled: [TrickledContent] = []
        // Contents on IBB or S5B (nil) have no ICE candidates to trickle.
        for (i, content) in contents.enumerated() where i < transports.count {
            guard let transport = transports[i] else { continue }
            let carried = (content.transport as? ICEUDPTransport)?.candidates ?? []
            trickled.append(TrickledContent(creator: content.creator, name: content.name, transport: transport,
                                            idPrefix: "\(action == .sessionInitiate ? "c" : "r")\(i)-", sent: carried))
        }
        let count = trickled.reduce(0) { $0 + $1.sent.count }
        let done = gatheringDone(transports.compactMap { $0 })
        options.observer?(action == .sessionInitiate ? .sessionInitiate(candidates: count, gatheringDone: done)
                                                     : .sessionAccept(candidates: count, gatheringDone: done))
        return CandidateTrickler(engine: engine, id: id, events: events, after: action, contents: trickled, observer: options.observer)
    }
}
