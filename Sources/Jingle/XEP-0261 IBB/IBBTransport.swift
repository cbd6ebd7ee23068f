import XMLStream
import XMPPCore

/// `<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size sid stanza/>` (XEP-0261 §2): data in
/// XEP-0047 in-band bytestream stanzas, the fallback when no direct connection works.
public struct IBBTransport: JingleTransportMethod, Hashable {
    public static let namespace = NS.jingleIBB
    public static let section = "XEP-0261 §2"

    public enum StanzaKind: String, Sendable, Hashable, CaseIterable { case iq, message }

    /// At most 65535 (XEP-0047 §2.1).
    public var blockSize: UInt16
    public var sid: String
    /// Absent means `iq` (XEP-0047 §2.1).
    public var stanza: StanzaKind?
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(blockSize: UInt16, sid: String, stanza: StanzaKind? = nil, extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.blockSize = blockSize
        self.sid = sid
        self.stanza = stanza
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "transport", namespace: NS.jingleIBB, section: Self.section)
        blockSize = try r.required("block-size", as: UInt16.self)
        if blockSize == 0 { throw r.error(.invalidAttribute("block-size", value: "0")) }
        sid = try r.required("sid")
        stanza = try r.optional("stanza", as: StanzaKind.self)
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "transport", namespace: NS.jingleIBB)
        e.set("block-size", blockSize)
        e.set("sid", sid)
        e.set("stanza", stanza)
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}
