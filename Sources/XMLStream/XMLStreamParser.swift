internal import CLibXML2

/// What the parser reports while reading an XMPP stream.
public enum XMLStreamEvent: Sendable, Hashable {
    /// The stream's root element opened (`<stream:stream …>`): its qualified name and attributes.
    case streamOpened(XMLStreamHeader)
    /// One complete top-level child of the stream (a stanza, `<stream:features/>`, …).
    case element(XMLElement)
    /// The root element closed (`</stream:stream>`).
    case streamClosed
}

/// The opening tag of a stream: name, namespace, attributes and the namespace declarations it made
/// (prefix -> URI; the default namespace has the empty prefix).
public struct XMLStreamHeader: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var attributes: [XMLAttribute]
    public var namespaceDeclarations: [String: String]

    public init(name: String, namespace: String, attributes: [XMLAttribute], namespaceDeclarations: [String: String]) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
        self.namespaceDeclarations = namespaceDeclarations
    }

    /// The value of the unqualified attribute `name`.
    public subscript(attribute name: String) -> String? {
        attributes.first { $0.name == name && $0.namespace.isEmpty }?.value
    }
}

/// Limits that bound what a peer can make the parser hold (RFC 6120 §13.12: resource exhaustion).
public struct XMLStreamLimits: Sendable, Hashable {
    /// Largest stanza, in bytes of input, from the end of the previous stanza to the end of this one.
    public var maxStanzaBytes: Int
    /// Deepest element nesting, counting the stream root as depth 1.
    public var maxDepth: Int
    /// Most attributes (plus namespace declarations) on one element.
    public var maxAttributes: Int

    public init(maxStanzaBytes: Int = 1 << 20, maxDepth: Int = 64, maxAttributes: Int = 64) {
        self.maxStanzaBytes = maxStanzaBytes
        self.maxDepth = maxDepth
        self.maxAttributes = maxAttributes
    }

    public static let `default` = XMLStreamLimits()
}

/// Why the parser stopped. Each maps to an RFC 6120 §4.9.3 stream error condition.
public enum XMLStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A DOCTYPE, entity declaration, comment or processing instruction (RFC 6120 §11.1).
    case restrictedXML(String)
    /// Not well-formed XML (libxml2's message, with line and column).
    case notWellFormed(String)
    /// Input that is not UTF-8 or declares another encoding (RFC 6120 §11.6).
    case unsupportedEncoding(String)
    /// A stanza over `maxStanzaBytes`.
    case stanzaTooLarge(limit: Int)
    /// Nesting deeper than `maxDepth`.
    case tooDeep(limit: Int)
    /// More attributes than `maxAttributes` on one element.
    case tooManyAttributes(limit: Int)
    /// The input ended before the stream (or document) was complete.
    case unexpectedEnd
    /// A document (not stream) had no root element, or content after the root.
    case notASingleElement

    /// The stream error condition (RFC 6120 §4.9.3) this maps to.
    public var streamErrorCondition: String {
        switch self {
        case .restrictedXML: "restricted-xml"
        case .notWellFormed, .unexpectedEnd, .notASingleElement: "not-well-formed"
        case .unsupportedEncoding: "unsupported-encoding"
        case .stanzaTooLarge, .tooDeep, .tooManyAttributes: "policy-violation"
        }
    }

    public var description: String {
        switch self {
        case .restrictedXML(let what): "restricted XML: \(what)"
        case .notWellFormed(let message): "not well-formed: \(message)"
        case .unsupportedEncoding(let what): "unsupported encoding: \(what)"
        case .stanzaTooLarge(let limit): "stanza larger than \(limit) bytes"
        case .tooDeep(let limit): "elements nested deeper than \(limit)"
        case .tooManyAttributes(let limit): "more than \(limit) attributes on one element"
        case .unexpectedEnd: "input ended inside an element"
        case .notASingleElement: "expected exactly one root element"
        }
    }
}

/// An incremental XMPP stream parser over libxml2's push parser (SAX2, namespace-aware).
///
/// Feed it bytes in any chunking; it returns the events completed by those bytes. Feeding one byte at a
/// time gives exactly the events of feeding everything at once. After an error the parser is dead: every
/// later call throws the same error.
///
/// Two modes: `.stream` (the root opens a stream, its children are stanzas) and `.document` (the root
/// element itself is returned as one `.element` event, for files and tests).
///
/// Not thread-safe: use one parser from one task or actor.
public final class XMLStreamParser {
    public enum Mode: Sendable { case stream, document }

    public let limits: XMLStreamLimits
    public let mode: Mode

    private let context: xmlParserCtxtPtr
    private var handler: xmlSAXHandler
    private var events: [XMLStreamEvent] = []
    /// Elements under construction, outermost first (in stream mode, the root is not on the stack).
    private var stack: [XMLElement] = []
    private var depth = 0
    private var failure: XMLStreamError?
    private var pendingFailure: XMLStreamError?
    private var sawRoot = false
    private var rootClosed = false
    /// Total bytes handed to libxml2 and the input offset where the current stanza's budget started.
    private var bytesFed = 0
    private var stanzaStart = 0
    /// Slice size handed to libxml2 at once, so that limits are checked before libxml2 buffers too much.
    private static let sliceSize = 16 * 1024

    public init(mode: Mode = .stream, limits: XMLStreamLimits = .default) {
        self.mode = mode
        self.limits = limits
        var sax = xmlSAXHandler()
        // Only our callbacks: no startDocument (it builds a tree we do not want), no entity resolution.
        sax.initialized = UInt32(XML_SAX2_MAGIC)
        sax.startElementNs = sjStartElement
        sax.endElementNs = sjEndElement
        sax.characters = sjCharacters
        sax.cdataBlock = sjCharacters
        sax.internalSubset = sjInternalSubset
        sax.externalSubset = sjInternalSubset
        sax.entityDecl = sjEntityDecl
        sax.comment = sjComment
        sax.processingInstruction = sjProcessingInstruction
        sax.serror = sjStructuredError
        self.handler = sax
        // user_data NULL: libxml2 then passes the parser context to each callback; we keep ourselves
        // in ctxt->_private (passing our own object as user_data crashes inside libxml2's SAX2 defaults).
        guard let ctxt = withUnsafeMutablePointer(to: &handler, { xmlCreatePushParserCtxt($0, nil, nil, 0, nil) }) else {
            preconditionFailure("libxml2 could not allocate a parser context")
        }
        // No network, no DTD loading, no entity expansion beyond the five predefined ones (there can be no
        // declared entities: any DOCTYPE stops the parser). NOENT makes libxml2 hand attribute values to
        // startElementNs already decoded.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOENT.rawValue | XML_PARSE_NOCDATA.rawValue)
        xmlCtxtUseOptions(ctxt, options)
        self.context = ctxt
        sj_xmlCtxtSetPrivate(ctxt, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        sj_xmlCtxtSetPrivate(context, nil)
        xmlFreeParserCtxt(context)
    }

    /// Feeds bytes and returns the events they completed.
    public func feed<Bytes: Sequence>(_ bytes: Bytes) throws(XMLStreamError) -> [XMLStreamEvent] where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(XMLStreamError) in try feed(buffer) }
    }

    /// Feeds a string's UTF-8 bytes.
    public func feed(_ string: String) throws(XMLStreamError) -> [XMLStreamEvent] {
        try feed(Array(string.utf8))
    }

    /// Feeds bytes from a buffer and returns the events they completed.
    public func feed(_ buffer: UnsafeBufferPointer<UInt8>) throws(XMLStreamError) -> [XMLStreamEvent] {
        if let failure { throw failure }
        var offset = 0
        while offset < buffer.count {
            let n = min(Self.sliceSize, buffer.count - offset)
            try parseChunk(UnsafeBufferPointer(rebasing: buffer[offset..<offset + n]), terminate: false)
            offset += n
        }
        return takeEvents()
    }

    /// Tells the parser the input ended. In stream mode a stream that was not closed is `unexpectedEnd`;
    /// in document mode this completes the document.
    public func finish() throws(XMLStreamError) -> [XMLStreamEvent] {
        if let failure { throw failure }
        try parseChunk(UnsafeBufferPointer(start: nil, count: 0), terminate: true)
        if !rootClosed {
            fail(sawRoot ? .unexpectedEnd : (mode == .document ? .notASingleElement : .unexpectedEnd))
            throw failure!
        }
        return takeEvents()
    }

    private func takeEvents() -> [XMLStreamEvent] {
        let out = events
        events.removeAll(keepingCapacity: true)
        return out
    }

    private func parseChunk(_ chunk: UnsafeBufferPointer<UInt8>, terminate: Bool) throws(XMLStreamError) {
        bytesFed += chunk.count
        let rc = chunk.withMemoryRebound(to: CChar.self) { chars in
            xmlParseChunk(context, chars.baseAddress, Int32(chars.count), terminate ? 1 : 0)
        }
        if let pendingFailure { fail(pendingFailure) }
        if failure == nil && rc != 0 {
            fail(Self.classify(lastError: xmlCtxtGetLastError(context)))
        }
        if failure == nil && sawRoot && depth >= (mode == .stream ? 1 : 0) {
            // Bytes since the last stanza boundary that libxml2 holds or has turned into our tree.
            if bytesFed - stanzaStart > limits.maxStanzaBytes, depth > (mode == .stream ? 1 : 0) || !stack.isEmpty || hasUnparsedInput {
                fail(.stanzaTooLarge(limit: limits.maxStanzaBytes))
            }
        }
        if let failure { throw failure }
    }

    private var hasUnparsedInput: Bool {
        Int(xmlByteConsumed(context)) < bytesFed
    }

    private func fail(_ error: XMLStreamError) {
        if failure == nil { failure = error }
        xmlStopParser(context)
    }

    /// Records an error from inside a callback; it is raised when control returns from libxml2.
    fileprivate func failInCallback(_ error: XMLStreamError) {
        if pendingFailure == nil { pendingFailure = error }
        xmlStopParser(context)
    }

    private static func classify(lastError: UnsafePointer<xmlError>?) -> XMLStreamError {
        guard let error = lastError?.pointee else { return .notWellFormed("parser error") }
        var message = error.message.map { String(cString: $0) } ?? "parser error"
        while message.last == "\n" { message.removeLast() }
        let located = "\(message) (line \(error.line), column \(error.int2))"
        switch xmlParserErrors(UInt32(error.code)) {
        case XML_ERR_INVALID_CHAR, XML_ERR_INVALID_ENCODING, XML_ERR_UNSUPPORTED_ENCODING, XML_ERR_UNKNOWN_ENCODING:
            return message.contains("UTF-8") || message.contains("encoding") ? .unsupportedEncoding(located) : .notWellFormed(located)
        case XML_ERR_DOCUMENT_END:
            return .notASingleElement
        case XML_ERR_UNDECLARED_ENTITY, XML_WAR_UNDECLARED_ENTITY, XML_ERR_ENTITY_LOOP:
            return .restrictedXML("entity reference: \(located)")
        default:
            return .notWellFormed(located)
        }
    }

    // MARK: callbacks (called synchronously from xmlParseChunk)

    fileprivate func startElement(
        localname: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
        namespaceCount: Int32, namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
        attributeCount: Int32, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        guard failure == nil, pendingFailure == nil else { return }
        depth += 1
        if depth > limits.maxDepth { return failInCallback(.tooDeep(limit: limits.maxDepth)) }
        if Int(attributeCount) + Int(namespaceCount) > limits.maxAttributes {
            return failInCallback(.tooManyAttributes(limit: limits.maxAttributes))
        }
        if depth == 1 {
            sawRoot = true
            if let declared = sj_xmlCtxtDeclaredEncoding(context) {
                let name = String(cString: declared).uppercased()
                if name != "UTF-8" && name != "UTF8" { return failInCallback(.unsupportedEncoding("declared \(name)")) }
            }
        }
        let name = Self.string(localname)
        let namespace = Self.string(uri)
        var attrs: [XMLAttribute] = []
        if let attributes, attributeCount > 0 {
            attrs.reserveCapacity(Int(attributeCount))
            for i in 0..<Int(attributeCount) {
                let base = attributes + i * 5
                let attrName = Self.string(base[0])
                let attrNamespace = Self.string(base[2])
                let value: String
                if let start = base[3], let end = base[4] {
                    value = String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
                } else {
                    value = ""
                }
                attrs.append(XMLAttribute(name: attrName, namespace: attrNamespace, value: value))
            }
        }
        if depth == 1 && mode == .stream {
            var declarations: [String: String] = [:]
            if let namespaces {
                for i in 0..<Int(namespaceCount) {
                    declarations[Self.string(namespaces[2 * i])] = Self.string(namespaces[2 * i + 1])
                }
            }
            events.append(.streamOpened(XMLStreamHeader(name: name, namespace: namespace, attributes: attrs, namespaceDeclarations: declarations)))
            stanzaStart = Int(xmlByteConsumed(context))
            return
        }
        stack.append(XMLElement(name: name, namespace: namespace, attributes: attrs, children: []))
    }

    fileprivate func endElement() {
        guard failure == nil, pendingFailure == nil else { return }
        defer { depth -= 1 }
        if depth == 1 && mode == .stream {
            rootClosed = true
            events.append(.streamClosed)
            return
        }
        guard let finished = stack.popLast() else { return }
        if stack.isEmpty {
            events.append(.element(finished))
            stanzaStart = Int(xmlByteConsumed(context))
            if mode == .document { rootClosed = true }
        } else {
            stack[stack.count - 1].children.append(.element(finished))
        }
    }

    fileprivate func characters(_ bytes: UnsafePointer<xmlChar>?, _ count: Int32) {
        guard failure == nil, pendingFailure == nil, let bytes, count > 0, !stack.isEmpty else { return }
        let text = String(decoding: UnsafeBufferPointer(start: bytes, count: Int(count)), as: UTF8.self)
        let last = stack.count - 1
        // libxml2 may split one text node over several callbacks: merge them.
        if case .text(let previous)? = stack[last].children.last {
            stack[last].children[stack[last].children.count - 1] = .text(previous + text)
        } else {
            stack[last].children.append(.text(text))
        }
        if bytesFed - stanzaStart > limits.maxStanzaBytes {
            failInCallback(.stanzaTooLarge(limit: limits.maxStanzaBytes))
        }
    }

    fileprivate func restricted(_ what: String) {
        failInCallback(.restrictedXML(what))
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }
}

// MARK: - C callbacks: find the owner through ctxt->_private

private func owner(_ ctx: UnsafeMutableRawPointer?) -> XMLStreamParser? {
    guard let ctx, let raw = sj_xmlCtxtGetPrivate(ctx) else { return nil }
    return Unmanaged<XMLStreamParser>.fromOpaque(raw).takeUnretainedValue()
}

private func sjStartElement(
    ctx: UnsafeMutableRawPointer?, localname: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?,
    uri: UnsafePointer<xmlChar>?, nbNamespaces: Int32, namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
    nbAttributes: Int32, nbDefaulted: Int32, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
) {
    owner(ctx)?.startElement(localname: localname, uri: uri, namespaceCount: nbNamespaces, namespaces: namespaces,
                             attributeCount: nbAttributes, attributes: attributes)
}

private func sjEndElement(ctx: UnsafeMutableRawPointer?, localname: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) {
    owner(ctx)?.endElement()
}

private func sjCharacters(ctx: UnsafeMutableRawPointer?, ch: UnsafePointer<xmlChar>?, len: Int32) {
    owner(ctx)?.characters(ch, len)
}

private func sjInternalSubset(ctx: UnsafeMutableRawPointer?, name: UnsafePointer<xmlChar>?, externalID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?) {
    owner(ctx)?.restricted("DOCTYPE declaration")
}

private func sjEntityDecl(ctx: UnsafeMutableRawPointer?, name: UnsafePointer<xmlChar>?, type: Int32, publicID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?, content: UnsafeMutablePointer<xmlChar>?) {
    owner(ctx)?.restricted("entity declaration")
}

private func sjComment(ctx: UnsafeMutableRawPointer?, value: UnsafePointer<xmlChar>?) {
    // Comments are restricted on a stream (RFC 6120 §11.1); in a document (a file) they are skipped.
    guard let parser = owner(ctx), parser.mode == .stream else { return }
    parser.restricted("comment")
}

private func sjProcessingInstruction(ctx: UnsafeMutableRawPointer?, target: UnsafePointer<xmlChar>?, data: UnsafePointer<xmlChar>?) {
    owner(ctx)?.restricted("processing instruction")
}

private func sjStructuredError(userData: UnsafeMutableRawPointer?, error: UnsafeMutablePointer<xmlError>?) {
    // Silence libxml2's default printing to stderr; the error is read back with xmlCtxtGetLastError.
}
