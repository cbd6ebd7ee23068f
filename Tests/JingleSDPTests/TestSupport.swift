import Foundation
import Testing
import Jingle
import SDP
import XMLStream
import XMPPCore
@testable import JingleSDP

enum FixtureError: Error { case missing(String) }

/// A fixture from the test bundle (never the source tree).
func fixtureText(_ name: String, _ ext: String, subdirectory: String = "Fixtures") throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: subdirectory) else {
        throw FixtureError.missing("\(subdirectory)/\(name).\(ext)")
    }
    return try String(contentsOf: url, encoding: .utf8)
}

func fixtureSDP(_ name: String) throws -> SessionDescription {
    try SessionDescription(parsing: try fixtureText(name, "sdp"))
}

/// The `<jingle/>` of an XEP example IQ (or the bare element).
func xepJingle(_ name: String) throws -> JinglePayload {
    let root = try XMLElement(parsing: try fixtureText(name, "xml", subdirectory: "Fixtures/xep"))
    let element = root.name == "jingle" ? root : try #require(root.child("jingle", namespace: NS.jingle))
    return try JinglePayload(element: element, registry: .sdpMapping)
}

func xepElement(_ name: String) throws -> XMLElement {
    try XMLElement(parsing: try fixtureText(name, "xml", subdirectory: "Fixtures/xep")).trimmingWhitespaceText()
}

let mapper = JingleSDPMapper()

/// SDP -> Jingle -> XML text -> Jingle -> SDP text -> SDP: the path a gateway takes.
func roundTrip(_ sdp: SessionDescription, author: JingleRole, action: JingleWireAction,
               using mapper: JingleSDPMapper = mapper) throws -> (jingle: JinglePayload, sdp: SessionDescription) {
    let jingle = try mapper.jingle(from: sdp, context: .init(author: author, action: action))
    let xml = jingle.element().serialized()
    let reparsed = try JinglePayload(element: try XMLElement(parsing: xml), registry: .sdpMapping)
    #expect(reparsed == jingle, "the Jingle XML must survive its own serialisation")
    let text = try mapper.sdp(from: reparsed, author: author).serialized()
    return (reparsed, try SessionDescription(parsing: text))
}

/// Jingle -> SDP text -> Jingle, through the wire forms.
func roundTrip(_ jingle: JinglePayload, author: JingleRole) throws -> (sdp: SessionDescription, jingle: JinglePayload) {
    let text = try mapper.sdp(from: jingle, author: author).serialized()
    let sdp = try SessionDescription(parsing: text)
    let back = try mapper.jingle(from: sdp, context: .init(author: author, action: jingle.action, sid: nil,
                                                          initiator: jingle.initiator, responder: jingle.responder,
                                                          creator: jingle.contents.first?.creator))
    return (sdp, back)
}

/// Candidate ids have no SDP form (XEP-0176 §5 `id`): blank them to compare the rest.
func withoutCandidateIDs(_ payload: JinglePayload) -> JinglePayload {
    var copy = payload
    for i in copy.contents.indices {
        if var ice = copy.contents[i].transport.flatMap(JingleSDPMapper.iceTransport) {
            for j in ice.candidates.indices { ice.candidates[j].id = "" }
            copy.contents[i].transport = ice
        } else if var raw = copy.contents[i].transport as? RawUDPTransport {
            for j in raw.candidates.indices { raw.candidates[j].id = "" }
            copy.contents[i].transport = raw
        }
    }
    return copy
}

/// The one normalisation of the SDP side: what each m-line says, as a sorted list of lines, with session-level
/// ICE/DTLS/direction attributes pushed down to every m-line (RFC 8839 §5.4, RFC 8122 §5, RFC 8866 §6.7), the
/// deliberately dropped lines removed, candidate tokens reduced to what XEP-0176 carries (generation absent = 0),
/// `a=setup` defaulted to `active` beside a fingerprint (RFC 4145 §4), and transport addresses left out for ICE
/// (they are derived from the default candidate).
func normalizedSections(_ sdp: SessionDescription) -> [[String]] {
    let dropped = Set(JingleSDPMapper.droppedLines(in: sdp).filter { !$0.line.hasPrefix("a=candidate") }.map { "\($0.mediaIndex ?? -1)|\($0.line)" })
    let session = sdp.attributes
    return sdp.media.enumerated().map { index, section in
        var lines: [String] = ["m=\(section.media) \(section.port == 0 ? "rejected" : "") \(section.formats.joined(separator: " "))"]
        var attributes = section.attributes
        let ownNames = Set(attributes.map(\.name))
        for attribute in session {
            switch attribute {
            case .iceUfrag, .icePwd, .fingerprint, .setup:
                if !ownNames.contains(attribute.name) && section.port != 0 { attributes.append(attribute) }
            case .extmapAllowMixed:
                if !ownNames.contains(attribute.name) && !JingleSDPMapper.isDataChannel(section) { attributes.append(attribute) }
            case .direction:
                if section.direction == nil { attributes.append(attribute) }
            default: break
            }
        }
        if attributes.contains(where: { if case .fingerprint = $0 { true } else { false } }),
           !attributes.contains(where: { if case .setup = $0 { true } else { false } }) {
            attributes.append(.setup(.active))
        }
        let usesICE = attributes.contains { if case .iceUfrag = $0 { true } else if case .candidate = $0 { true } else { false } }
            || JingleSDPMapper.isDataChannel(section)
        if !usesICE, section.port != 0, let c = sdp.connection(for: section) { lines.append("raw \(c.address) \(section.port)") }
        if let b = section.bandwidths.first { lines.append("b=\(b.type):\(b.value)") }
        for attribute in attributes {
            let line = "a=" + attribute.serialized()
            if dropped.contains("\(index)|\(line)") || dropped.contains("-1|\(line)") { continue }
            switch attribute {
            case .mid, .iceOptions: continue
            case .candidate(var c):
                guard c.transport.lowercased() == "udp", c.tcpType == nil else { continue }
                c.extensions = [SDPCandidateExtension(name: "generation", value: String(c.generation ?? 0))]
                    + (c.networkID.flatMap { UInt32($0) }.map { [SDPCandidateExtension(name: "network-id", value: String($0))] } ?? [])
                lines.append("a=candidate:" + c.serialized())
            case .remoteCandidates(let list):
                lines.append("a=" + SDPAttribute.remoteCandidates(Array(list.prefix(1))).serialized())
            case .sctpmap(let m) where m.streams == nil:
                lines.append("a=sctp-port:\(m.port)")
            default: lines.append(line)
            }
        }
        return lines.sorted()
    }
}

/// Content names the mapping gives each m-line.
func contentNames(_ sdp: SessionDescription) -> [String] {
    (try? JingleSDPMapper.contentNames(sdp)) ?? []
}

/// The element with, at every level, attributes sorted by name and child elements grouped by kind in a fixed
/// order (stable within a kind): what two equal models give whatever order their source XML used.
func canonical(_ element: XMLElement) -> XMLElement {
    var copy = element.trimmingWhitespaceText()
    copy.attributes.sort { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    let children = copy.children.enumerated().map { offset, node -> (String, Int, XMLNode) in
        switch node {
        case .element(let e): (e.namespace + "|" + e.name, offset, .element(canonical(e)))
        case .text(let t): ("~", offset, .text(t.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }
    copy.children = children.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    return copy
}

func canonical(_ payload: JinglePayload) -> XMLElement { canonical(withoutCandidateIDs(payload).element()) }
