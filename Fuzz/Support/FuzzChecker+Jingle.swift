import Jingle
import XMLStream
import XMPPCore

extension FuzzChecker {
    static let jingleLocal = try! JID("juliet@capulet.lit/balcony")  // a constant we wrote, not peer data
    static let jingleClockStart = ContinuousClock.now

    /// XEP-0166 §7.1 model round trip, plus RFC 6120 §8.2.3: an IQ-set always gets exactly one reply.
    func checkJingle(_ input: [UInt8]) throws(FuzzFailure) -> String {
        let root: XMLElement
        do throws(XMLStreamError) {
            root = try XMLElement(parsing: input)
        } catch {
            return "xml:" + caseName(error)
        }
        var label = "element"
        var payloadElement: XMLElement?
        if root.name == "jingle" {
            payloadElement = root
        } else if root.name == "iq" {
            let iq: IQ
            do throws(StanzaParseError) {
                iq = try IQ(element: root)
            } catch {
                return "iq:" + caseName(error)
            }
            payloadElement = iq.payload.flatMap { $0.name == "jingle" && $0.namespace == NS.jingle ? $0 : nil }
            try checkManagerReplies(iq)
            label = "iq"
        }
        guard let payloadElement else { return label }
        let payload: JinglePayload
        do throws(JingleParseError) {
            payload = try JinglePayload(element: payloadElement)
        } catch {
            return label + ":" + caseName(error.kind)
        }
        let written = payload.element()
        let bytes = written.serializedBytes()
        let reparsed: XMLElement
        do throws(XMLStreamError) {
            reparsed = try XMLElement(parsing: bytes, limits: Self.reparseLimits)
        } catch {
            throw fail("serialized <jingle/> does not parse (\(error)):\n\(String(decoding: bytes, as: UTF8.self).prefix(400))")
        }
        guard reparsed == written else {
            throw fail("serialized <jingle/> re-parses to another element:\n\(String(decoding: bytes, as: UTF8.self).prefix(400))")
        }
        let again: JinglePayload
        do throws(JingleParseError) {
            again = try JinglePayload(element: reparsed)
        } catch {
            throw fail("written payload is refused (\(error)):\n\(String(decoding: bytes, as: UTF8.self).prefix(400))")
        }
        guard again == payload else {
            throw fail("payload changed after model/serialize/parse:\n\(String(decoding: bytes, as: UTF8.self).prefix(400))")
        }
        return label + ":" + payload.action.rawValue
    }

    /// Feeds the IQ to a fresh session manager twice (the second time it may meet the session the first made).
    private func checkManagerReplies(_ iq: IQ) throws(FuzzFailure) {
        var manager = JingleSessionManager(local: Self.jingleLocal, ids: SequentialIDGenerator(prefix: "f"),
                                           sessionIDs: SequentialIDGenerator(prefix: "s"))
        for round in 0..<2 {
            let actions = manager.receive(iq, now: Self.jingleClockStart)
            let replies = actions.filter { if case .reply = $0 { true } else { false } }
            if iq.type == .set && replies.count != 1 {
                throw fail("IQ-set got \(replies.count) replies in round \(round) (RFC 6120 §8.2.3 wants exactly one)")
            }
            if iq.type != .set && iq.type != .get && !replies.isEmpty {
                throw fail("a \(iq.type.rawValue) IQ was answered (RFC 6120 §8.2.3 forbids it)")
            }
        }
    }
}
