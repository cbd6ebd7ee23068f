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

    public var limits: XMLStreamLimits { state.pointee.limits }
    public var mode: Mode { state.pointee.mode }

    private let context: xmlParserCtxtPtr
    private var handler: xmlSAXHandler
    /// Everything the SAX callbacks touch lives in one manually allocated struct reached through
    /// ctxt->_private: callbacks then mutate it in place, without class-property exclusivity checks.
    private let state: UnsafeMutablePointer<SAXState>
    /// Slice size handed to libxml2 at once, so that limits are checked before libxml2 buffers too much.
    private static let sliceSize = 16 * 1024

    public init(mode: Mode = .stream, limits: XMLStreamLimits = .default) {
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
        // user_data NULL: libxml2 then passes the parser context to each callback; we keep our state
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
        self.state = .allocate(capacity: 1)
        state.initialize(to: SAXState(context: ctxt, mode: mode, limits: limits))
        sj_xmlCtxtSetPrivate(ctxt, UnsafeMutableRawPointer(state))
    }

    deinit {
        sj_xmlCtxtSetPrivate(context, nil)
        xmlFreeParserCtxt(context)
        state.deinitialize(count: 1)
        state.deallocate()
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
        if let failure = state.pointee.failure { throw failure }
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
        if let failure = state.pointee.failure { throw failure }
        if state.pointee.mode == .stream && !state.pointee.rootClosed {
            // libxml2 would call this a document error; on a stream it means the peer stopped mid-stream.
            fail(.unexpectedEnd)
            throw .unexpectedEnd
        }
        try parseChunk(UnsafeBufferPointer(start: nil, count: 0), terminate: true)
        if !state.pointee.rootClosed {
            let error: XMLStreamError = state.pointee.sawRoot ? .unexpectedEnd : .notASingleElement
            fail(error)
            throw error
        }
        return takeEvents()
    }

    private func takeEvents() -> [XMLStreamEvent] {
        let out = state.pointee.events
        state.pointee.events.removeAll(keepingCapacity: true)
        return out
    }

    private func parseChunk(_ chunk: UnsafeBufferPointer<UInt8>, terminate: Bool) throws(XMLStreamError) {
        state.pointee.bytesFed += chunk.count
        sj_xmlSilenceGenericErrors()
        let rc = chunk.withMemoryRebound(to: CChar.self) { chars in
            xmlParseChunk(context, chars.baseAddress, Int32(chars.count), terminate ? 1 : 0)
        }
        if let pending = state.pointee.pendingFailure { fail(pending) }
        if state.pointee.failure == nil && rc != 0 {
            fail(Self.classify(lastError: xmlCtxtGetLastError(context)))
        }
        let s = state.pointee
        if s.failure == nil && s.sawRoot && s.bytesFed - s.stanzaStart > s.limits.maxStanzaBytes {
            // Bytes since the last stanza boundary that libxml2 holds or has turned into our tree.
            let inStanza = s.depth > (s.mode == .stream ? 1 : 0) || !s.stack.isEmpty
            if inStanza || Int(xmlByteConsumed(context)) < s.bytesFed {
                fail(.stanzaTooLarge(limit: s.limits.maxStanzaBytes))
            }
        }
        if let failure = state.pointee.failure { throw failure }
    }

    private func fail(_ error: XMLStreamError) {
        if state.pointee.failure == nil { state.pointee.failure = error }
        xmlStopParser(context)
    }

    private static func classify(lastError: UnsafePointer<xmlError>?) -> XMLStreamError {
        guard let error = lastError?.pointee else { return .notWellFormed("parser error") }
        let located = describe(error)
        switch xmlParserErrors(UInt32(error.code)) {
        case XML_ERR_INVALID_CHAR, XML_ERR_INVALID_ENCODING, XML_ERR_UNSUPPORTED_ENCODING, XML_ERR_UNKNOWN_ENCODING:
            return located.contains("UTF-8") || located.contains("encoding") ? .unsupportedEncoding(located) : .notWellFormed(located)
        case XML_ERR_DOCUMENT_END:
            return .notASingleElement
        case XML_ERR_UNDECLARED_ENTITY, XML_WAR_UNDECLARED_ENTITY, XML_ERR_ENTITY_LOOP:
            return .restrictedXML("entity reference: \(located)")
        default:
            return .notWellFormed(located)
        }
    }
}

/// libxml2's message for an error, with line and column.
fileprivate func describe(_ error: xmlError) -> String {
    var message = error.message.map { String(cString: $0) } ?? "parser error"
    while message.last == "\n" { message.removeLast() }
    return "\(message) (line \(error.line), column \(error.int2))"
}

/// The state the SAX callbacks build; see `XMLStreamParser.state`.
fileprivate struct SAXState {
    let context: xmlParserCtxtPtr
    let mode: XMLStreamParser.Mode
    let limits: XMLStreamLimits
    var events: [XMLStreamEvent] = []
    /// Elements under construction, outermost first (in stream mode, the root is not on the stack).
    var stack: [XMLElement] = []
    var depth = 0
    var failure: XMLStreamError?
    var pendingFailure: XMLStreamError?
    var sawRoot = false
    var rootClosed = false
    /// Total bytes handed to libxml2 and the input offset where the current stanza's budget started.
    var bytesFed = 0
    var stanzaStart = 0
    /// Text of the innermost open element not yet turned into a String: libxml2 reports one text node
    /// in pieces (split at every entity reference), so the pieces are gathered as bytes and converted once.
    var pendingText: [UInt8] = []
    /// Swift strings for libxml2's interned names and namespace URIs, in a small direct-mapped cache
    /// keyed by address. libxml2 interns element and attribute names and namespace URIs in the parser's
    /// dictionary, which never frees an entry while the parser lives, so an address that was once a
    /// dictionary string always holds the same text. Only addresses the dictionary owns are cached.
    var internedKeys = [UnsafeRawPointer?](repeating: nil, count: 512)
    var internedValues = [String](repeating: "", count: 512)

    init(context: xmlParserCtxtPtr, mode: XMLStreamParser.Mode, limits: XMLStreamLimits) {
        self.context = context
        self.mode = mode
        self.limits = limits
    }

    /// Records an error from inside a callback; it is raised when control returns from libxml2.
    mutating func failInCallback(_ error: XMLStreamError) {
        if pendingFailure == nil { pendingFailure = error }
        xmlStopParser(context)
    }

    var stopped: Bool { failure != nil || pendingFailure != nil }

    mutating func interned(_ pointer: UnsafePointer<xmlChar>?) -> String {
        guard let pointer else { return "" }
        let key = UnsafeRawPointer(pointer)
        let slot = Int(truncatingIfNeeded: (UInt64(UInt(bitPattern: key)) &* 0x9E37_79B9_7F4A_7C15) >> 55)
        if internedKeys[slot] == key { return internedValues[slot] }
        let value = String(cString: pointer)
        if sj_xmlCtxtDictOwns(context, pointer) != 0 {
            internedKeys[slot] = key
            internedValues[slot] = value
        }
        return value
    }

    mutating func startElement(
        localname: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
        namespaceCount: Int32, namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
        attributeCount: Int32, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        guard !stopped else { return }
        flushText()
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
        let name = interned(localname)
        let namespace = interned(uri)
        var attrs: [XMLAttribute] = []
        if let attributes, attributeCount > 0 {
            attrs.reserveCapacity(Int(attributeCount))
            for i in 0..<Int(attributeCount) {
                let base = attributes + i * 5
                let value: String
                if let start = base[3], let end = base[4] {
                    value = String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
                } else {
                    value = ""
                }
                attrs.append(XMLAttribute(name: interned(base[0]), namespace: interned(base[2]), value: value))
            }
        }
        if depth == 1 && mode == .stream {
            var declarations: [String: String] = [:]
            if let namespaces {
                for i in 0..<Int(namespaceCount) {
                    declarations[interned(namespaces[2 * i])] = interned(namespaces[2 * i + 1])
                }
            }
            events.append(.streamOpened(XMLStreamHeader(name: name, namespace: namespace, attributes: attrs, namespaceDeclarations: declarations)))
            stanzaStart = Int(xmlByteConsumed(context))
            return
        }
        stack.append(XMLElement(name: name, namespace: namespace, attributes: attrs, children: []))
    }

    mutating func endElement() {
        guard !stopped else { return }
        flushText()
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
            let parent = stack.count - 1
            if stack[parent].children.isEmpty { stack[parent].children.reserveCapacity(4) }
            stack[parent].children.append(.element(finished))
        }
    }

    /// Moves gathered text into the innermost open element.
    mutating func flushText() {
        guard !pendingText.isEmpty else { return }
        let text = String(decoding: pendingText, as: UTF8.self)
        pendingText.removeAll(keepingCapacity: true)
        guard !stack.isEmpty else { return }
        let last = stack.count - 1
        if case .text(let previous)? = stack[last].children.last {
            stack[last].children[stack[last].children.count - 1] = .text(previous + text)
        } else {
            stack[last].children.append(.text(text))
        }
    }

    mutating func characters(_ bytes: UnsafePointer<xmlChar>?, _ count: Int32) {
        guard !stopped, let bytes, count > 0, !stack.isEmpty else { return }
        pendingText.append(contentsOf: UnsafeBufferPointer(start: bytes, count: Int(count)))
        if bytesFed - stanzaStart > limits.maxStanzaBytes {
            failInCallback(.stanzaTooLarge(limit: limits.maxStanzaBytes))
        }
    }
}

// MARK: - C callbacks: find the state through ctxt->_private

private func state(_ ctx: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<SAXState>? {
    guard let ctx, let raw = sj_xmlCtxtGetPrivate(ctx) else { return nil }
    return raw.assumingMemoryBound(to: SAXState.self)
}

private func sjStartElement(
    ctx: UnsafeMutableRawPointer?, localname: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?,
    uri: UnsafePointer<xmlChar>?, nbNamespaces: Int32, namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
    nbAttributes: Int32, nbDefaulted: Int32, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
) {
    state(ctx)?.pointee.startElement(localname: localname, uri: uri, namespaceCount: nbNamespaces, namespaces: namespaces,
                                     attributeCount: nbAttributes, attributes: attributes)
}

private func sjEndElement(ctx: UnsafeMutableRawPointer?, localname: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) {
    state(ctx)?.pointee.endElement()
}

private func sjCharacters(ctx: UnsafeMutableRawPointer?, ch: UnsafePointer<xmlChar>?, len: Int32) {
    state(ctx)?.pointee.characters(ch, len)
}

private func sjInternalSubset(ctx: UnsafeMutableRawPointer?, name: UnsafePointer<xmlChar>?, externalID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?) {
    state(ctx)?.pointee.failInCallback(.restrictedXML("DOCTYPE declaration"))
}

private func sjEntityDecl(ctx: UnsafeMutableRawPointer?, name: UnsafePointer<xmlChar>?, type: Int32, publicID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?, content: UnsafeMutablePointer<xmlChar>?) {
    state(ctx)?.pointee.failInCallback(.restrictedXML("entity declaration"))
}

private func sjComment(ctx: UnsafeMutableRawPointer?, value: UnsafePointer<xmlChar>?) {
    // Comments are restricted on a stream (RFC 6120 §11.1); in a document (a file) they are skipped.
    guard let s = state(ctx), s.pointee.mode == .stream else { return }
    s.pointee.failInCallback(.restrictedXML("comment"))
}

private func sjProcessingInstruction(ctx: UnsafeMutableRawPointer?, target: UnsafePointer<xmlChar>?, data: UnsafePointer<xmlChar>?) {
    state(ctx)?.pointee.failInCallback(.restrictedXML("processing instruction"))
}

private func sjStructuredError(userData: UnsafeMutableRawPointer?, error: UnsafeMutablePointer<xmlError>?) {
    // Installing this handler silences libxml2's printing to stderr; fatal errors are read back with
    // xmlCtxtGetLastError. Namespace errors (an unbound prefix) are only "errors" to libxml2, which
    // carries on; XMPP requires namespace-well-formed XML (RFC 6120 §11.2), so they stop the parser.
    guard let error = error?.pointee, error.domain == Int32(XML_FROM_NAMESPACE.rawValue),
          error.level.rawValue >= XML_ERR_ERROR.rawValue, let s = state(userData) else { return }
    s.pointee.failInCallback(.notWellFormed(describe(error)))
}
