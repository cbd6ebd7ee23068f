import XMLStream
import XMPPCore

/// One finding about a Jingle stanza.
public struct JingleDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        /// Breaks a MUST of the specification; a peer would refuse it.
        case error
        /// Breaks a SHOULD, or is legal but likely a mistake.
        case warning

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .error && rhs == .warning }
    }

    public var severity: Severity
    public var message: String
    /// The rule, e.g. `XEP-0166 §7.2.10`.
    public var section: String

    public init(_ severity: Severity, _ message: String, section: String) {
        self.severity = severity
        self.message = message
        self.section = section
    }

    public var description: String { "\(severity.rawValue): \(message) (\(section))" }
}

/// Checks a `<jingle/>` element (or an `<iq/>` carrying one) against the rules of the XEPs beyond what parsing
/// enforces: per-action content requirements, unique names, group references, payload-type ids, DTLS roles.
public enum JingleValidator {
    public static func validate(_ element: XMLElement, registry: JingleRegistry = .standard) -> [JingleDiagnostic] {
        let jingle: XMLElement
        if element.name == "jingle" && element.namespace == NS.jingle {
            jingle = element
        } else if let inner = element.child("jingle", namespace: NS.jingle) {
            jingle = inner
        } else {
            return [JingleDiagnostic(.error, "no <jingle xmlns='\(NS.jingle)'/> element", section: "XEP-0166 §7.1")]
        }
        do throws(JingleParseError) {
            let parsed = try JinglePayload(element: jingle, registry: registry)
            return (missingCandidateAttributes(jingle) + validate(parsed, registry: registry)).sorted { $0.severity < $1.severity }
        } catch {
            return [JingleDiagnostic(.error, error.description, section: error.section)]
        }
    }

    /// ICE-UDP candidates without `generation` or `id`: parsing accepts them (generation 0, a derived id), but
    /// XEP-0176 §5 requires both and stricter peers refuse the stanza.
    private static func missingCandidateAttributes(_ jingle: XMLElement) -> [JingleDiagnostic] {
        var out: [JingleDiagnostic] = []
        for content in jingle.children("content", namespace: NS.jingle) {
            for transport in content.children("transport", namespace: NS.jingleICEUDP) {
                for candidate in transport.children("candidate", namespace: NS.jingleICEUDP) {
                    for name in ["generation", "id"] where candidate.attribute(name) == nil {
                        let which = candidate.attribute("id") ?? candidate.attribute("foundation") ?? "?"
                        out.append(JingleDiagnostic(.error, "content '\(content.attribute("name") ?? "")': candidate '\(which)' has no '\(name)' attribute (accepted as \(name == "id" ? "a derived id" : "0"))",
                                                    section: "XEP-0176 §5"))
                    }
                }
            }
        }
        return out
    }

    /// The same checks on an already parsed payload.
    public static func validate(_ payload: JinglePayload, registry: JingleRegistry = .standard) -> [JingleDiagnostic] {
        var out: [JingleDiagnostic] = []
        checkAction(payload, registry: registry, into: &out)
        checkContents(payload, into: &out)
        return out.sorted { $0.severity < $1.severity }
    }

    private static func checkAction(_ p: JinglePayload, registry: JingleRegistry, into out: inout [JingleDiagnostic]) {
        let needsFullContents: Set<JingleWireAction> = [.sessionInitiate, .sessionAccept, .contentAdd]
        let needsContents: Set<JingleWireAction> = [.contentAccept, .contentAdd, .contentModify, .contentReject, .contentRemove,
                                                     .descriptionInfo, .securityInfo, .sessionAccept, .sessionInitiate,
                                                     .transportAccept, .transportInfo, .transportReject, .transportReplace]
        if needsContents.contains(p.action) && p.contents.isEmpty {
            out.append(JingleDiagnostic(.error, "\(p.action.rawValue) needs at least one <content/>", section: section(for: p.action)))
        }
        if needsFullContents.contains(p.action) {
            for c in p.contents where c.description == nil || c.transport == nil {
                out.append(JingleDiagnostic(.error, "content '\(c.name)' of \(p.action.rawValue) needs <description/> and <transport/>", section: section(for: p.action)))
            }
            for c in p.contents {
                if let d = c.description, !registry.supportsDescription(d.wireNamespace) {
                    out.append(JingleDiagnostic(.warning, "content '\(c.name)': application format \(d.wireNamespace) is not supported here", section: "XEP-0166 §6.3.2"))
                }
                if let t = c.transport, !registry.supportsTransport(t.wireNamespace) {
                    out.append(JingleDiagnostic(.warning, "content '\(c.name)': transport \(t.wireNamespace) is not supported here", section: "XEP-0166 §6.3.2"))
                }
            }
        }
        if [.transportReplace, .transportAccept].contains(p.action) {
            for c in p.contents where c.transport == nil {
                out.append(JingleDiagnostic(.error, "content '\(c.name)' of \(p.action.rawValue) needs <transport/>", section: section(for: p.action)))
            }
        }
        if p.action == .contentModify {
            for c in p.contents where c.senders == nil {
                out.append(JingleDiagnostic(.error, "content-modify of '\(c.name)' without 'senders' changes nothing", section: "XEP-0166 §7.2.3"))
            }
        }
        if p.action == .sessionInitiate && p.initiator == nil {
            out.append(JingleDiagnostic(.warning, "session-initiate SHOULD carry 'initiator'", section: "XEP-0166 §7.1"))
        }
        if p.action == .sessionInitiate && p.contents.contains(where: { $0.creator != .initiator }) {
            out.append(JingleDiagnostic(.error, "contents of session-initiate are created by the initiator", section: "XEP-0166 §7.2.10"))
        }
        if p.action == .sessionAccept && p.responder == nil {
            out.append(JingleDiagnostic(.warning, "session-accept SHOULD carry 'responder'", section: "XEP-0166 §7.1"))
        }
        if p.action == .sessionTerminate && p.reason == nil {
            out.append(JingleDiagnostic(.warning, "session-terminate SHOULD say why in <reason/>", section: "XEP-0166 §7.2.11"))
        }
        if p.action != .sessionInfo && !p.info.isEmpty {
            out.append(JingleDiagnostic(.warning, "informational payloads belong in session-info", section: "XEP-0166 §7.2.9"))
        }
        var seen: Set<String> = []
        for c in p.contents where !seen.insert("\(c.creator.rawValue)/\(c.name)").inserted {
            out.append(JingleDiagnostic(.error, "content name '\(c.name)' used twice by the \(c.creator.rawValue)", section: "XEP-0166 §7.3"))
        }
        let names = Set(p.contents.map(\.name))
        if [.sessionInitiate, .sessionAccept].contains(p.action) {
            for g in p.groups {
                for n in g.contents where !names.contains(n) {
                    out.append(JingleDiagnostic(.error, "group \(g.semantics) names unknown content '\(n)'", section: "XEP-0338 §3"))
                }
            }
        }
    }

    private static func checkContents(_ p: JinglePayload, into out: inout [JingleDiagnostic]) {
        for c in p.contents {
            if let rtp = c.description as? RTPDescription {
                var ids: Set<UInt8> = []
                for pt in rtp.payloadTypes {
                    if !ids.insert(pt.id).inserted {
                        out.append(JingleDiagnostic(.error, "content '\(c.name)': payload-type id \(pt.id) appears twice", section: "XEP-0167 §4"))
                    }
                    // XEP-0167 §4: for dynamic payload types (96–127) the name is REQUIRED, and clockrate SHOULD be given.
                    if pt.id >= 96 && pt.name == nil {
                        out.append(JingleDiagnostic(.error, "content '\(c.name)': dynamic payload-type \(pt.id) needs a name", section: "XEP-0167 §4"))
                    }
                    if pt.id >= 96 && pt.clockrate == nil {
                        out.append(JingleDiagnostic(.warning, "content '\(c.name)': dynamic payload-type \(pt.id) SHOULD have a clockrate", section: "XEP-0167 §4"))
                    }
                    if pt.channels == 0 {
                        out.append(JingleDiagnostic(.error, "content '\(c.name)': payload-type \(pt.id) has 0 channels", section: "XEP-0167 §4"))
                    }
                }
                if [.sessionInitiate, .sessionAccept, .contentAdd].contains(p.action) && rtp.payloadTypes.isEmpty {
                    out.append(JingleDiagnostic(.error, "content '\(c.name)': RTP description offers no payload-type", section: "XEP-0167 §4"))
                }
                let sources = Set(rtp.sources.map(\.ssrc))
                for g in rtp.sourceGroups {
                    for s in g.ssrcs where !sources.contains(s) {
                        out.append(JingleDiagnostic(.warning, "content '\(c.name)': ssrc-group \(g.semantics) names ssrc \(s) without a <source/>", section: "XEP-0339 §3.2"))
                    }
                }
            }
            if let ice = c.transport as? ICEUDPTransport {
                for f in ice.fingerprints {
                    // RFC 5763 §5: the answerer must pick active or passive, never actpass.
                    if p.action == .sessionAccept && f.setup == .actpass {
                        out.append(JingleDiagnostic(.error, "content '\(c.name)': session-accept with setup='actpass'; the answerer chooses active or passive", section: "XEP-0320 §3"))
                    }
                }
                if [.sessionInitiate, .sessionAccept].contains(p.action) && (ice.ufrag == nil || ice.pwd == nil) {
                    out.append(JingleDiagnostic(.warning, "content '\(c.name)': ICE transport without ufrag/pwd", section: "XEP-0176 §5"))
                }
            }
            if let ft = c.description as? FileTransferDescription, p.action == .sessionInitiate {
                let sender = c.effectiveSenders
                if sender == .initiator && ft.file.name == nil && ft.file.hashes.isEmpty {
                    out.append(JingleDiagnostic(.warning, "file offer '\(c.name)' names no file and gives no hash", section: "XEP-0234 §4"))
                }
                if sender == .responder && ft.file.name == nil && ft.file.hashes.isEmpty {
                    out.append(JingleDiagnostic(.error, "file request '\(c.name)' identifies no file (name or hash)", section: "XEP-0234 §5"))
                }
                if sender == .both || sender == .none {
                    out.append(JingleDiagnostic(.warning, "file content '\(c.name)' with senders='\(sender.rawValue)': offers use initiator, requests responder", section: "XEP-0234 §4"))
                }
            }
        }
    }

    private static func section(for action: JingleWireAction) -> String {
        let index: Int
        switch action {
        case .contentAccept: index = 1
        case .contentAdd: index = 2
        case .contentModify: index = 3
        case .contentReject: index = 4
        case .contentRemove: index = 5
        case .descriptionInfo: index = 6
        case .securityInfo: index = 7
        case .sessionAccept: index = 8
        case .sessionInfo: index = 9
        case .sessionInitiate: index = 10
        case .sessionTerminate: index = 11
        case .transportAccept: index = 12
        case .transportInfo: index = 13
        case .transportReject: index = 14
        case .transportReplace: index = 15
        }
        return "XEP-0166 §7.2.\(index)"
    }
}
