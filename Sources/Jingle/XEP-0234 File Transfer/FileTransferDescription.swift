import XMLStream
import XMPPCore

/// `<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file/></description>` (XEP-0234 §3, §4).
///
/// Offer or request is decided by `senders` on the content (§4, §5): a file *offer* has the initiator sending;
/// a file *request* (pull) is a session-initiate whose content has `senders='responder'`.
public struct FileTransferDescription: JingleApplicationDescription, Hashable {
    public static let namespace = NS.jingleFileTransfer
    public static let section = "XEP-0234 §3"

    public var file: FileTransferFile
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(file: FileTransferFile, extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.file = file
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "description", namespace: NS.jingleFileTransfer, section: Self.section)
        file = try FileTransferFile(element: try r.requiredChild("file", namespace: NS.jingleFileTransfer))
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "description", namespace: NS.jingleFileTransfer)
        e.append(file.element())
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<file/>` metadata (XEP-0234 §3): every child optional.
public struct FileTransferFile: Sendable, Hashable {
    /// Last modification, XEP-0082 DateTime text.
    public var date: String?
    public var desc: String?
    public var mediaType: String?
    public var name: String?
    public var size: UInt64?
    public var range: FileTransferRange?
    public var hashes: [FileHash]
    public var hashesUsed: [HashUsed]
    public var extensions: [XMLElement]
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public init(date: String? = nil, desc: String? = nil, mediaType: String? = nil, name: String? = nil, size: UInt64? = nil,
                range: FileTransferRange? = nil, hashes: [FileHash] = [], hashesUsed: [HashUsed] = [], extensions: [XMLElement] = []) {
        self.date = date
        self.desc = desc
        self.mediaType = mediaType
        self.name = name
        self.size = size
        self.range = range
        self.hashes = hashes
        self.hashesUsed = hashesUsed
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "file", namespace: NS.jingleFileTransfer, section: FileTransferDescription.section)
        let ns = NS.jingleFileTransfer
        date = r.childText("date", namespace: ns)
        desc = r.childText("desc", namespace: ns)
        mediaType = r.childText("media-type", namespace: ns)
        name = r.childText("name", namespace: ns)
        if let text = r.childText("size", namespace: ns) {
            guard let n = UInt64(text) else { throw JingleParseError(.invalidText(text), element: "size", section: FileTransferDescription.section) }
            size = n
        } else { size = nil }
        range = try r.child("range", namespace: ns).map { (e) throws(JingleParseError) in try FileTransferRange(element: e) }
        var h: [FileHash] = []
        for e in r.children("hash", namespace: NS.hashes) { h.append(try FileHash(element: e)) }
        hashes = h
        var u: [HashUsed] = []
        for e in r.children("hash-used", namespace: NS.hashes) { u.append(try HashUsed(element: e)) }
        hashesUsed = u
        extensions = r.remainingChildren
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    public func element() -> XMLElement {
        let ns = NS.jingleFileTransfer
        var e = XMLElement(name: "file", namespace: ns)
        if let date { e.append(XMLElement("date", namespace: ns, text: date)) }
        if let desc { e.append(XMLElement("desc", namespace: ns, text: desc)) }
        if let mediaType { e.append(XMLElement("media-type", namespace: ns, text: mediaType)) }
        if let name { e.append(XMLElement("name", namespace: ns, text: name)) }
        if let range { e.append(range.element()) }
        if let size { e.append(XMLElement("size", namespace: ns, text: String(size))) }
        for h in hashes { e.append(h.element()) }
        for u in hashesUsed { e.append(u.element()) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<range offset length/>` with optional hashes of that range (XEP-0234 §3, §8 for resuming).
public struct FileTransferRange: Sendable, Hashable {
    /// Absent means 0.
    public var offset: UInt64?
    /// Absent means to the end of the file.
    public var length: UInt64?
    public var hashes: [FileHash]
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    /// Child elements no codec here understands, written back unchanged.
    public var extensions: [XMLElement] = []
    var layout = SourceLayout()

    public init(offset: UInt64? = nil, length: UInt64? = nil, hashes: [FileHash] = []) {
        self.offset = offset
        self.length = length
        self.hashes = hashes
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: "XEP-0234 §8")
        offset = try r.optional("offset", as: UInt64.self)
        length = try r.optional("length", as: UInt64.self)
        var h: [FileHash] = []
        for e in r.children("hash", namespace: NS.hashes) { h.append(try FileHash(element: e)) }
        hashes = h
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "range", namespace: NS.jingleFileTransfer)
        e.set("offset", offset)
        e.set("length", length)
        for h in hashes { e.append(h.element()) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// The session-info payloads of XEP-0234: `<checksum/>` (§7.1, the hash after sending) and `<received/>` (§7.2).
public enum FileTransferInfo: JingleInfoPayload, Hashable {
    case checksum(creator: JingleRole, name: String, file: FileTransferFile)
    case received(creator: JingleRole, name: String)

    public static let namespace = NS.jingleFileTransfer

    public init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: "XEP-0234 §7")
        guard element.namespace == NS.jingleFileTransfer else {
            throw r.error(.unexpectedElement(name: element.name, namespace: element.namespace))
        }
        switch element.name {
        case "checksum":
            let creator = try r.required("creator", as: JingleRole.self)
            let name = try r.required("name")
            self = .checksum(creator: creator, name: name, file: try FileTransferFile(element: try r.requiredChild("file", namespace: NS.jingleFileTransfer)))
        case "received":
            self = .received(creator: try r.required("creator", as: JingleRole.self), name: try r.required("name"))
        default:
            throw r.error(.unexpectedElement(name: element.name, namespace: element.namespace))
        }
    }

    public func element() -> XMLElement {
        switch self {
        case .checksum(let creator, let name, let file):
            XMLElement("checksum", namespace: NS.jingleFileTransfer, ["creator": creator.rawValue, "name": name], children: [file.element()])
        case .received(let creator, let name):
            XMLElement("received", namespace: NS.jingleFileTransfer, ["creator": creator.rawValue, "name": name])
        }
    }
}
