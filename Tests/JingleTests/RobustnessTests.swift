import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// Peer data never crashes the codecs or the machines: every attribute of every Jingle example is removed or
/// replaced by hostile values; parsing either throws a typed error or yields a model that round-trips, the
/// validator answers, and a session manager answers the IQ-set exactly once.
@Suite struct RobustnessTests {
    static let hostile = ["", "-1", "0", "4294967296", "99999999999999999999", "x", "é@/", "initiator", "both"]

    /// Every element of the tree with a path to reach it.
    static func paths(_ e: XMLElement, prefix: [Int] = []) -> [[Int]] {
        var out = [prefix]
        var index = 0
        for case .element(let child) in e.children {
            out += paths(child, prefix: prefix + [index])
            index += 1
        }
        return out
    }

    static func modify(_ e: XMLElement, at path: [Int], _ body: (inout XMLElement) -> Void) -> XMLElement {
        var copy = e
        guard let first = path.first else {
            body(&copy)
            return copy
        }
        var index = 0
        copy.children = copy.children.map { node in
            guard case .element(let child) = node else { return node }
            defer { index += 1 }
            return index == first ? .element(modify(child, at: Array(path.dropFirst()), body)) : node
        }
        return copy
    }

    static let jingleExamples: [String] = {
        ((try? Fixtures.index().map(\.file)) ?? []).filter { notRoundTripping[$0] == nil }
    }()

    @Test(arguments: jingleExamples)
    func hostileAttributeValues(_ file: String) throws {
        let root = try XMLElement(parsing: Fixtures.text(file)).trimmingWhitespaceText()
        guard let jingle = root.child("jingle", namespace: NS.jingle) else { return }
        var manager = JingleSessionManager(local: bob, ids: SequentialIDGenerator(prefix: "b"), sessionIDs: SequentialIDGenerator(prefix: "s"))
        var variants = 0
        for path in Self.paths(jingle) {
            var names: [String] = []
            _ = Self.modify(jingle, at: path) { names = $0.attributes.filter { $0.namespace.isEmpty }.map(\.name) }
            for name in names {
                var mutations: [XMLElement] = [Self.modify(jingle, at: path) { $0.setAttribute(name, value: nil) }]
                for value in Self.hostile { mutations.append(Self.modify(jingle, at: path) { $0.setAttribute(name, value: value) }) }
                for variant in mutations {
                    variants += 1
                    do {
                        let model = try JinglePayload(element: variant)
                        let again = try JinglePayload(element: XMLElement(parsing: model.element().serialized()))
                        #expect(again == model)
                    } catch let error as JingleParseError {
                        #expect(!error.section.isEmpty)
                    }
                    _ = JingleValidator.validate(variant)
                    let iq = IQ(type: .set, id: "v\(variants)", from: alice, to: bob, payload: variant)
                    let replies = manager.receive(iq, now: t0).filter { if case .reply(let r) = $0 { r.id == iq.id } else { false } }
                    #expect(replies.count == 1, "\(file) \(path) \(name)")
                }
            }
        }
        #expect(variants > 0)
    }
}
