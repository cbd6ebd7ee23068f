import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// Unknown attributes and elements are what later versions of a XEP (or a vendor) add; a codec that drops them
/// breaks the peer that sent them. Every round-tripping example is decorated with an unknown attribute on each
/// element and an unknown child in each element that has children, and must still round-trip.
@Suite struct ExtensionPreservationTests {
    /// Elements whose value is their text or their mere presence, or which are enumerations in the model:
    /// XEP-0166 reason conditions and `<sid/>`, XEP-0234 file metadata, XEP-0167 informational messages,
    /// XEP-0260 flags. These carry no extensions by their schemas.
    static let noAttributes: Set<String> = Set([
        "date", "desc", "media-type", "name", "size", "sid", "text", "rtcp-mux", "extmap-allow-mixed",
        "candidate-used", "activated", "candidate-error", "proxy-error",
        "active", "hold", "unhold", "mute", "unmute", "ringing", "checksum", "received",
    ] + JingleReason.Condition.allCases.map(\.rawValue))
    static let noChildren: Set<String> = ["checksum", "alternative-session"]

    static func decorate(_ element: XMLElement, insideGroup: Bool = false) -> XMLElement {
        var e = element
        let isGroupMember = insideGroup && (e.name == "source" || e.name == "content")
        if !noAttributes.contains(e.name) && !isGroupMember {
            e.attributes.append(XMLAttribute(name: "x-ext", value: "kept"))
        }
        let hasElements = e.children.contains { if case .element = $0 { true } else { false } }
        let groups = e.name == "ssrc-group" || e.name == "group"
        e.children = e.children.map { node in
            if case .element(let child) = node { return .element(decorate(child, insideGroup: groups)) }
            return node
        }
        if hasElements && !noChildren.contains(e.name) {
            e.append(XMLElement("x-ext", namespace: "urn:example:ext", ["flavour": "vanilla"], children: [XMLElement(name: "inner", namespace: "urn:example:ext")]))
        }
        return e
    }

    static let examples: [String] = {
        ((try? Fixtures.index().map(\.file)) ?? []).filter { notRoundTripping[$0] == nil }
    }()

    @Test(arguments: examples)
    func decoratedExampleRoundTrips(_ file: String) throws {
        let root = try XMLElement(parsing: Fixtures.text(file)).trimmingWhitespaceText()
        if let jingle = root.child("jingle", namespace: NS.jingle) {
            let decorated = Self.decorate(jingle)
            let again = try JinglePayload(element: decorated).element()
            #expect(again.normalizedForComparison() == decorated.normalizedForComparison())
            #expect(again.serialized().contains("x-ext=\"kept\""))
        } else if root.name == "description" {
            let decorated = Self.decorate(root)
            #expect(try RTPDescription(element: decorated).element().normalizedForComparison() == decorated.normalizedForComparison())
        } else if let jm = root.elements.first(where: { $0.namespace == NS.jingleMessage }) {
            let decorated = Self.decorate(jm)
            #expect(try JingleMessage(element: decorated).element().normalizedForComparison() == decorated.normalizedForComparison())
        }
    }

    @Test func reasonTextKeepsItsLanguage() throws {
        let text = "<reason xmlns='urn:xmpp:jingle:1'><busy/><text xml:lang='en'>in a meeting</text></reason>"
        let reason = try JingleReason(element: XMLElement(parsing: text))
        #expect(reason.textLanguage == "en" && reason.text == "in a meeting")
        #expect(reason.element() == (try XMLElement(parsing: text)))
    }
}
