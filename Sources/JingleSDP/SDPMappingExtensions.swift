import Jingle
import XMLStream

/// Elements of the project namespace `urn:swiftjingle:sdp:0`, for SDP lines that standard Jingle cannot carry.
///
/// Each one sits inside the Jingle element whose SDP section holds the line, so our own round trips are
/// lossless while other Jingle peers ignore what they do not know (XEP-0166 §9: unknown elements are ignored).
///
/// | element | where | SDP |
/// |---|---|---|
/// | `<end-of-candidates/>` | ICE-UDP `<transport>` | `a=end-of-candidates` (RFC 8840 §8.2; XEP-0176 has none) |
/// | `<ice-lite/>` | ICE-UDP `<transport>` | session-level `a=ice-lite` (RFC 8839 §5.3) |
/// | `<rtcp-rsize/>` | RTP `<description>` | `a=rtcp-rsize` (RFC 5506 §5) |
/// | `<max-message-size value/>` | ICE-UDP `<transport>`, beside `<sctpmap>` | `a=max-message-size` (RFC 8841 §6.1) |
/// | `<rejected proto/>` | `<content>` | an m-line with port 0 (RFC 3264 §6), with its profile kept so an answer can echo it |
public enum SDPMappingExtension {
    public static let namespace = "urn:swiftjingle:sdp:0"

    public static let endOfCandidates = XMLElement(name: "end-of-candidates", namespace: namespace)
    public static let iceLite = XMLElement(name: "ice-lite", namespace: namespace)
    public static let rtcpRsize = XMLElement(name: "rtcp-rsize", namespace: namespace)

    public static func maxMessageSize(_ value: UInt64) -> XMLElement {
        XMLElement("max-message-size", namespace: namespace, ["value": String(value)])
    }

    public static func rejected(proto: String) -> XMLElement {
        XMLElement("rejected", namespace: namespace, ["proto": proto])
    }

    static func find(_ name: String, in elements: [XMLElement]) -> XMLElement? {
        elements.first { $0.name == name && $0.namespace == namespace }
    }
}

/// `<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number protocol streams/>` inside an ICE-UDP
/// transport (XEP-0343 §4.2): the SCTP port and protocol of a WebRTC data channel.
///
/// Not (yet) a model of the Jingle module, so it travels in `ICEUDPTransport.extensions`.
public struct SCTPMap: Hashable, Sendable {
    public static let namespace = "urn:xmpp:jingle:transports:dtls-sctp:1"

    /// The SCTP port (`a=sctp-port`, RFC 8841 §5.1).
    public var number: UInt16
    /// `webrtc-datachannel`.
    public var `protocol`: String
    /// Streams of the old `a=sctpmap` syntax (draft-ietf-mmusic-sctp-sdp-05); nil for the RFC 8841 form.
    public var streams: UInt32?

    public init(number: UInt16, protocol: String = "webrtc-datachannel", streams: UInt32? = nil) {
        self.number = number
        self.protocol = `protocol`
        self.streams = streams
    }

    public init(element: XMLElement) throws(JingleSDPError) {
        guard element.name == "sctpmap", element.namespace == Self.namespace else {
            throw JingleSDPError(.invalidValue, "expected <sctpmap xmlns='\(Self.namespace)'/>, got <\(element.name) xmlns='\(element.namespace)'/>")
        }
        guard let raw = element[attribute: "number"], let number = UInt16(raw) else {
            throw JingleSDPError(.invalidValue, "<sctpmap/> needs a numeric 'number' (XEP-0343 §4.2)")
        }
        self.number = number
        self.protocol = element[attribute: "protocol"] ?? "webrtc-datachannel"
        if let raw = element[attribute: "streams"] {
            guard let streams = UInt32(raw) else {
                throw JingleSDPError(.invalidValue, "<sctpmap/> 'streams' must be a number (XEP-0343 §4.2), got '\(raw)'")
            }
            self.streams = streams
        }
    }

    public func element() -> XMLElement {
        XMLElement("sctpmap", namespace: Self.namespace,
                   ["number": String(number), "protocol": `protocol`, "streams": streams.map(String.init)])
    }
}

/// The application format of a WebRTC data channel content: `<description
/// xmlns='urn:xmpp:jingle:apps:webrtc-datachannel:0'/>`, as Jitsi and other XEP-0343 peers send it.
///
/// XEP-0343 defines only the transport side (`<sctpmap/>`); this empty description is the one in use, so a bare
/// `m=application … UDP/DTLS/SCTP webrtc-datachannel` maps to it.
public struct WebRTCDataChannelDescription: JingleApplicationDescription, Hashable {
    public static let namespace = "urn:xmpp:jingle:apps:webrtc-datachannel:0"

    /// Child elements, kept verbatim.
    public var extensions: [XMLElement]

    public init(extensions: [XMLElement] = []) { self.extensions = extensions }

    public init(element: XMLElement) throws(JingleParseError) {
        guard element.name == "description", element.namespace == Self.namespace else {
            throw JingleParseError(.unexpectedElement(name: element.name, namespace: element.namespace),
                                   element: element.name, section: "XEP-0343 §4")
        }
        extensions = element.elements
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "description", namespace: Self.namespace)
        for x in extensions { e.append(x) }
        return e
    }
}

extension JingleRegistry {
    /// `JingleRegistry.standard` plus the data channel description this mapping produces.
    public static let sdpMapping: JingleRegistry = {
        var registry = JingleRegistry.standard
        registry.register(description: WebRTCDataChannelDescription.self)
        return registry
    }()
}
