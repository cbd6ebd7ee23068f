#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jingle
import Synchronization
import XMLStream
import XMPPCore
import XMPPLink

/// XEP-0047 in-band bytestreams as XEP-0261 uses them: the Jingle negotiation (session-initiate/accept or
/// transport-replace/accept) fixes the sid and block size, then the sender opens the stream with `<open/>`,
/// sends base64 `<data seq/>` IQs (each acknowledged by an IQ result) and ends with `<close/>`.
/// The bytes ride the XMPP link (TLS to the server at best), not an end-to-end encrypted channel.
enum IBB {
    /// The block size we propose and the largest we accept (XEP-0047 §2.1 suggests 4096; some servers limit
    /// stanza sizes, and base64 grows the payload by a third).
    static let maxBlockSize: UInt16 = 4096
    /// Data IQs in flight before the sender waits for the oldest acknowledgement (XEP-0047 §2.2 lets the
    /// sender pipeline; a small window keeps the server's queue short).
    static let window = 8

    /// A fresh, unguessable stream id.
    static func newSID() -> String {
        "ibb" + String(UInt64.random(in: 0..<UInt64.max), radix: 36) + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
    }

    /// The block size both sides can live with: the responder may lower the proposal, never raise it
    /// (XEP-0261 §2, Example 3), and we never go above our own limit.
    static func agreedBlockSize(proposed: UInt16, answered: UInt16?) -> UInt16 {
        min(proposed, answered ?? proposed, maxBlockSize)
    }
}

// MARK: - receiving

/// Routes the XEP-0047 IQs arriving on one link to the stream each belongs to (by sender and sid).
/// One router per link: the link has one handler per namespace.
final class IBBRouter: Sendable {
    private struct Key: Hashable {
        let peer: JID
        let sid: String
    }

    private final class WeakLink: @unchecked Sendable {
        // Written once in init, read under the registry lock.
        weak var link: (any XMPPSession)?
        init(_ link: any XMPPSession) { self.link = link }
    }

    private static let registry = Mutex<[ObjectIdentifier: (link: WeakLink, router: IBBRouter)]>([:])

    private let streams = Mutex<[Key: IBBInbound]>([:])

    /// The router of `link`, registering its IQ handler on first use.
    static func router(for link: any XMPPSession) async -> IBBRouter {
        let id = ObjectIdentifier(link)
        let (router, isNew) = registry.withLock { table -> (IBBRouter, Bool) in
            table = table.filter { $0.value.link.link != nil }
            if let entry = table[id], let known = entry.link.link, known === link { return (entry.router, false) }
            let router = IBBRouter()
            table[id] = (WeakLink(link), router)
            return (router, true)
        }
        if isNew {
            await link.register(iqHandler: NS.ibb) { [router] iq in try router.handle(iq) }
        }
        return router
    }

    /// Expects a stream `sid` from `peer` with blocks of at most `blockSize` bytes. Call before the Jingle
    /// answer goes out: the peer may open right after it.
    func expect(sid: String, from peer: JID, blockSize: UInt16) -> IBBInbound {
        let inbound = IBBInbound(sid: sid, peer: peer, blockSize: Int(blockSize))
        streams.withLock { $0[Key(peer: peer, sid: sid)] = inbound }
        return inbound
    }

    func remove(_ inbound: IBBInbound) {
        streams.withLock { table in
            let key = Key(peer: inbound.peer, sid: inbound.sid)
            if table[key] === inbound { table[key] = nil }
        }
    }

    /// The IQ handler (XEP-0047 §2): errors go back to the sender as the stanza errors the XEP names.
    func handle(_ iq: IQ) throws -> XMLElement? {
        guard iq.type == .set, let payload = iq.payload, payload.namespace == NS.ibb else {
            throw StanzaError(.badRequest, text: "expected an IQ-set with open, data or close (XEP-0047 §2)")
        }
        guard let sid = payload[attribute: "sid"], !sid.isEmpty else {
            throw StanzaError(.badRequest, text: "no sid (XEP-0047 §2.1)")
        }
        let inbound: IBBInbound? = streams.withLock { table in
            if let from = iq.from { return table[Key(peer: from, sid: sid)] }
            // A serverless peer link may leave 'from' out: the sid alone then identifies the stream.
            return table.first { $0.key.sid == sid }?.value
        }
        // XEP-0047 §2.2 (Example 10): data for a stream we do not know is item-not-found.
        guard let inbound else { throw StanzaError(.itemNotFound, text: "no in-band bytestream with sid \(sid)") }
        do {
            switch payload.name {
            case "open": try inbound.receiveOpen(payload)
            case "data": try inbound.receiveData(payload)
            case "close": inbound.receiveClose()
            default: throw StanzaError(.badRequest, text: "unknown XEP-0047 element \(payload.name)")
            }
        } catch {
            remove(inbound)
            throw error
        }
        if inbound.isFinished { remove(inbound) }
        return nil
    }
}

/// One incoming in-band bytestream: validates each `<data/>` (sequence, base64, size) and buffers the bytes
/// for the reader. The sender's window bounds the buffer.
final class IBBInbound: Sendable {
    let sid: String
    let peer: JID
    let blockSize: Int

    private struct State {
        var opened = false
        var nextSeq: UInt16 = 0
        var chunks: [[UInt8]] = []
        var closed = false
        var failure: String?
    }

    private let state = Mutex(State())

    init(sid: String, peer: JID, blockSize: Int) {
        self.sid = sid
        self.peer = peer
        self.blockSize = blockSize
    }

    var isFinished: Bool { state.withLock { $0.closed || $0.failure != nil } }

    /// XEP-0047 §2.1: the block size may not exceed what the Jingle negotiation fixed; we only take IQs.
    func receiveOpen(_ open: XMLElement) throws(StanzaError) {
        if let stanza = open[attribute: "stanza"], stanza != "iq" {
            fail("the sender wants to carry data in \(stanza) stanzas; only iq is supported")
            throw StanzaError(.featureNotImplemented, text: "only stanza='iq' is supported")
        }
        guard let size = open[attribute: "block-size"].flatMap(Int.init), size > 0 else {
            fail("open without a valid block-size")
            throw StanzaError(.badRequest, text: "block-size missing or invalid (XEP-0047 §2.1)")
        }
        // XEP-0047 Example 4: a block size larger than agreed is refused with resource-constraint.
        guard size <= blockSize else {
            fail("the sender opened with block-size \(size), above the agreed \(blockSize)")
            throw StanzaError(.resourceConstraint, text: "block-size above the negotiated \(blockSize)")
        }
        state.withLock { $0.opened = true }
    }

    /// XEP-0047 §2.2: seq counts from 0 and wraps after 65535; a gap or repeat ends the stream
    /// (unexpected-request); undecodable or oversized data is bad-request.
    func receiveData(_ data: XMLElement) throws(StanzaError) {
        if isFinished { throw StanzaError(.itemNotFound, text: "the bytestream \(sid) is no longer open") }
        guard let seq = data[attribute: "seq"].flatMap(UInt16.init) else {
            fail("data without a valid seq (XEP-0047 §2.2)")
            throw StanzaError(.badRequest, text: "seq missing or not in 0...65535")
        }
        let expected = state.withLock { $0.nextSeq }
        guard seq == expected else {
            fail("data out of order: seq \(seq), expected \(expected) (XEP-0047 §2.2)")
            throw StanzaError(.unexpectedRequest, text: "seq \(seq), expected \(expected)")
        }
        // Base64 text may be wrapped over lines (XEP-0047 examples); whitespace is not part of the data.
        let text = data.text.filter { !$0.isWhitespace }
        guard let decoded = Data(base64Encoded: text) else {
            fail("data that is not valid base64 (XEP-0047 §2.2, RFC 4648)")
            throw StanzaError(.badRequest, text: "the data is not valid base64")
        }
        guard decoded.count <= blockSize else {
            fail("a block of \(decoded.count) bytes, above the agreed \(blockSize)")
            throw StanzaError(.badRequest, text: "block larger than the negotiated block-size")
        }
        state.withLock { s in
            s.nextSeq = seq &+ 1
            s.opened = true
            if !decoded.isEmpty { s.chunks.append([UInt8](decoded)) }
        }
    }

    /// XEP-0047 §2.3: the sender is done.
    func receiveClose() { state.withLock { $0.closed = true } }

    func fail(_ reason: String) {
        state.withLock { if $0.failure == nil { $0.failure = reason } }
    }

    /// The next bytes, nil after `<close/>`. Throws when the stream broke, the session ended, or nothing
    /// arrived for `idleTimeout`.
    func read(idleTimeout: Duration, events: SessionEventBuffer) async throws(FileTransferSessionError) -> [UInt8]? {
        var deadline = ContinuousClock.now + idleTimeout
        while true {
            enum Next { case bytes([UInt8]), closed, failed(String), none }
            let next: Next = state.withLock { s in
                if let failure = s.failure { return .failed(failure) }
                if !s.chunks.isEmpty {
                    // Hand over everything buffered at once: fewer file writes.
                    let all = s.chunks.count == 1 ? s.chunks[0] : Array(s.chunks.joined())
                    s.chunks.removeAll(keepingCapacity: true)
                    return .bytes(all)
                }
                return s.closed ? .closed : .none
            }
            switch next {
            case .bytes(let bytes): return bytes
            case .closed: return nil
            case .failed(let why): throw .transport("in-band bytestream \(sid): \(why)")
            case .none: break
            }
            if let end = events.endReason() { throw .peerTerminated(end) }
            guard ContinuousClock.now < deadline else { throw .timeout("in-band bytestream data (nothing for \(idleTimeout))") }
            try? await Task.sleep(for: .milliseconds(2))
            if Task.isCancelled { deadline = .now }
        }
    }
}

// MARK: - sending

/// Sends one in-band bytestream: `<open/>`, windowed `<data/>` IQs, `<close/>` (XEP-0047 §2).
actor IBBOutbound {
    nonisolated let link: any XMPPSession
    nonisolated let peer: JID
    nonisolated let sid: String
    nonisolated let blockSize: Int
    private var seq: UInt16 = 0
    private var counter: UInt64 = 0
    private var inFlight: [Task<Void, any Error>] = []
    private let idPrefix = "ibb" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
    private static let ackTimeout: Duration = .seconds(30)

    init(link: any XMPPSession, peer: JID, sid: String, blockSize: UInt16) {
        self.link = link
        self.peer = peer
        self.sid = sid
        self.blockSize = Int(blockSize)
    }

    private func nextID() -> String {
        counter += 1
        return "\(idPrefix)-\(counter)"
    }

    /// XEP-0047 §2.1: opens the stream with the negotiated block size, carried in IQs.
    func open() async throws(FileTransferSessionError) {
        let open = XMLElement("open", namespace: NS.ibb, ["block-size": String(blockSize), "sid": sid, "stanza": "iq"])
        try await request(IQ(type: .set, id: nextID(), to: peer, payload: open), "open")
    }

    func write(_ bytes: ArraySlice<UInt8>) async throws(FileTransferSessionError) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = min(start + blockSize, bytes.endIndex)
            let data = XMLElement("data", namespace: NS.ibb, ["seq": String(seq), "sid": sid], text: Data(bytes[start..<end]).base64EncodedString())
            // XEP-0047 §2.2: seq wraps to 0 after 65535.
            seq &+= 1
            let iq = IQ(type: .set, id: nextID(), to: peer, payload: data)
            while inFlight.count >= IBB.window { try await awaitOldest() }
            let link = self.link
            // The window's IQs are answered concurrently but must be written in seq order (XEP-0047 §2.2: the
            // receiver closes the stream on a gap), so wait until this one is on the link before the next.
            let written = WrittenSignal()
            inFlight.append(Task {
                defer { written.signal() }
                _ = try await link.sendIQ(iq, timeout: Self.ackTimeout) { written.signal() }
            })
            await written.wait()
            start = end
        }
    }

    /// Waits for every outstanding acknowledgement, then sends `<close/>` (XEP-0047 §2.3).
    func finish() async throws(FileTransferSessionError) {
        while !inFlight.isEmpty { try await awaitOldest() }
        let close = XMLElement("close", namespace: NS.ibb, ["sid": sid])
        try await request(IQ(type: .set, id: nextID(), to: peer, payload: close), "close")
    }

    /// Stops sending: outstanding IQs are abandoned.
    func cancel() {
        for task in inFlight { task.cancel() }
        inFlight.removeAll()
    }

    private func awaitOldest() async throws(FileTransferSessionError) {
        let task = inFlight.removeFirst()
        do { try await task.value } catch {
            cancel()
            throw Self.mapped(error, "data")
        }
    }

    private func request(_ iq: IQ, _ what: String) async throws(FileTransferSessionError) {
        do { _ = try await link.sendIQ(iq, timeout: Self.ackTimeout) } catch { throw Self.mapped(error, what) }
    }

    private static func mapped(_ error: any Error, _ what: String) -> FileTransferSessionError {
        if case XMPPLinkError.stanzaError(let e) = error {
            return .transport("the peer refused in-band bytestream \(what): \(e.condition.rawValue)\(e.text.map { " (\($0))" } ?? "")")
        }
        return .transport("in-band bytestream \(what): \(error)")
    }
}
