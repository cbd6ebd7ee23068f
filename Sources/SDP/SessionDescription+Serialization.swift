extension SessionDescription {
    /// The description as wire text: lines in the order of RFC 8866 §5, each ended by CRLF.
    ///
    /// Session level: `v o s i u e* p* c? b* (t r*)+ z? k? a*`, then every media description
    /// `m i? c* b* k? a*`. Attributes keep their order.
    public func serialized() -> String {
        var out = SDPWriter(capacity: 160 + attributes.count * 48 + media.reduce(0) { $0 + 64 + $1.attributes.count * 48 })
        out.start("v=")
        out.append(decimal: version)
        out.endLine()
        out.start("o=")
        out.append(origin.username, " ")
        out.append(origin.sessionID, " ")
        out.append(decimal: origin.sessionVersion)
        out.append(" ", origin.networkType)
        out.append(" ", origin.addressType)
        out.append(" ", origin.address)
        out.endLine()
        out.line("s=", sessionName)
        if let information { out.line("i=", information) }
        if let uri { out.line("u=", uri) }
        for email in emails { out.line("e=", email) }
        for phone in phones { out.line("p=", phone) }
        if let connection {
            out.start("c=")
            connection.write(to: &out)
            out.endLine()
        }
        for bandwidth in bandwidths { bandwidth.writeLine(to: &out) }
        for time in timing {
            out.start("t=")
            out.append(decimal: time.start)
            out.append(" ")
            out.append(decimal: time.stop)
            out.endLine()
            for repeatTimes in time.repeats {
                out.start("r=")
                out.append(repeatTimes.interval, " ")
                out.append(repeatTimes.activeDuration)
                for offset in repeatTimes.offsets { out.append(" ", offset) }
                out.endLine()
            }
        }
        if !timeZones.isEmpty {
            out.start("z=")
            for (index, zone) in timeZones.enumerated() {
                if index > 0 { out.append(" ") }
                out.append(decimal: zone.adjustmentTime)
                out.append(" ", zone.offset)
            }
            out.endLine()
        }
        if let encryptionKey { out.line("k=", encryptionKey) }
        for attribute in attributes { attribute.writeLine(to: &out) }
        for section in media { section.write(to: &out) }
        return out.string()
    }
}

extension SDPMediaDescription {
    /// This media section as wire text (`m=` and its lines, CRLF-ended).
    public func serialized() -> String {
        var out = SDPWriter(capacity: 64 + attributes.count * 48)
        write(to: &out)
        return out.string()
    }

    borrowing func write(to out: inout SDPWriter) {
        out.start("m=")
        out.append(media, " ")
        out.append(decimal: port)
        if let numberOfPorts {
            out.append("/")
            out.append(decimal: numberOfPorts)
        }
        out.append(" ", proto)
        for format in formats { out.append(" ", format) }
        out.endLine()
        if let information { out.line("i=", information) }
        for connection in connections {
            out.start("c=")
            connection.write(to: &out)
            out.endLine()
        }
        for bandwidth in bandwidths { bandwidth.writeLine(to: &out) }
        if let encryptionKey { out.line("k=", encryptionKey) }
        for attribute in attributes { attribute.writeLine(to: &out) }
    }
}

extension SDPConnection {
    /// `<nettype> <addrtype> <connection-address>`.
    borrowing func write(to out: inout SDPWriter) {
        out.append(networkType, " ")
        out.append(addressType, " ")
        out.append(address)
    }
}

extension SDPBandwidth {
    borrowing func writeLine(to out: inout SDPWriter) {
        out.start("b=")
        out.append(type, ":")
        out.append(decimal: value)
        out.endLine()
    }
}

extension SDPCandidate {
    /// The value of `a=candidate` without `a=candidate:`.
    public func serialized() -> String {
        var out = SDPWriter(capacity: 96)
        write(to: &out)
        return out.string()
    }

    borrowing func write(to out: inout SDPWriter) {
        out.append(foundation, " ")
        out.append(decimal: component)
        out.append(" ", transport)
        out.append(" ")
        out.append(decimal: priority)
        out.append(" ", address)
        out.append(" ")
        out.append(decimal: port)
        out.append(" typ ")
        type.write(to: &out)
        if let relatedAddress { out.append(" raddr ", relatedAddress) }
        if let relatedPort {
            out.append(" rport ")
            out.append(decimal: relatedPort)
        }
        for pair in extensions {
            out.append(" ", pair.name)
            out.append(" ", pair.value)
        }
    }
}

extension SDPCandidateType {
    borrowing func write(to out: inout SDPWriter) {
        switch self {
        case .host: out.append("host")
        case .srflx: out.append("srflx")
        case .prflx: out.append("prflx")
        case .relay: out.append("relay")
        case .other(let value): out.append(value)
        }
    }
}

extension SDPAttribute {
    /// Appends `a=<name>[:<value>]` and CRLF.
    ///
    /// Not inlined on purpose: as a call, `self` is guaranteed unchanged for its length, so the switch reads
    /// the payload in place; inlined into the loop over the array, the compiler copies each attribute first.
    consuming func writeLine(to out: inout SDPWriter) {
        out.start("a=")
        write(to: &out, name: true)
        out.endLine()
    }

    /// The text after `a=`: `name` or `name:value`.
    public func serialized() -> String {
        var out = SDPWriter(capacity: 64)
        write(to: &out, name: true)
        return out.string()
    }

    /// The text after `a=<name>:`, or nil for property attributes.
    public var serializedValue: String? {
        guard hasValue else { return nil }
        var out = SDPWriter(capacity: 64)
        write(to: &out, name: false)
        return out.string()
    }

    /// False for property attributes (`a=rtcp-mux`, `a=sendrecv`, an `.other` without value): no colon.
    private var hasValue: Bool {
        switch self {
        case .extmapAllowMixed, .endOfCandidates, .iceLite, .rtcpMux, .rtcpRsize, .direction: false
        case .other(_, let value): value != nil
        default: true
        }
    }

    /// Appends `<name>:<value>`, or the name alone for a property attribute; with `name` false only the value.
    /// One switch for both: binding a payload copies the attribute first, so each switch costs a copy.
    private consuming func write(to out: inout SDPWriter, name: Bool) {
        switch self {
        case .rtpmap(let map):
            if name { out.append("rtpmap:") }
            out.append(decimal: map.payloadType)
            out.append(" ", map.encodingName)
            out.append("/")
            out.append(decimal: map.clockRate)
            if let channels = map.channels {
                out.append("/")
                out.append(decimal: channels)
            }
        case .fmtp(let fmtp):
            if name { out.append("fmtp:") }
            out.append(fmtp.format)
            for (index, parameter) in fmtp.parameters.enumerated() {
                out.append(index == 0 ? " " : ";")
                if let name = parameter.name { out.append(name, "=") }
                out.append(parameter.value)
            }
        case .rtcpFeedback(let feedback):
            if name { out.append("rtcp-fb:") }
            switch feedback.format {
            case .all: out.append("*")
            case .format(let value): out.append(value)
            }
            out.append(" ", feedback.type)
            if let parameter = feedback.parameter { out.append(" ", parameter) }
        case .extmap(let extmap):
            if name { out.append("extmap:") }
            out.append(decimal: extmap.id)
            if let direction = extmap.direction {
                out.append("/")
                direction.write(to: &out)
            }
            out.append(" ", extmap.uri)
            if let attributes = extmap.extensionAttributes { out.append(" ", attributes) }
        case .ssrc(let source):
            if name { out.append("ssrc:") }
            out.append(decimal: source.ssrc)
            out.append(" ", source.name)
            if let value = source.value { out.append(":", value) }
        case .ssrcGroup(let group):
            if name { out.append("ssrc-group:") }
            out.append(group.semantics)
            for ssrc in group.ssrcs {
                out.append(" ")
                out.append(decimal: ssrc)
            }
        case .group(let group):
            if name { out.append("group:") }
            out.append(group.semantics)
            for identifier in group.identifiers { out.append(" ", identifier) }
        case .mid(let value):
            if name { out.append("mid:") }
            out.append(value)
        case .iceUfrag(let value):
            if name { out.append("ice-ufrag:") }
            out.append(value)
        case .icePwd(let value):
            if name { out.append("ice-pwd:") }
            out.append(value)
        case .candidate(let candidate):
            if name { out.append("candidate:") }
            candidate.write(to: &out)
        case .remoteCandidates(let candidates):
            if name { out.append("remote-candidates:") }
            for (index, candidate) in candidates.enumerated() {
                if index > 0 { out.append(" ") }
                out.append(decimal: candidate.component)
                out.append(" ", candidate.address)
                out.append(" ")
                out.append(decimal: candidate.port)
            }
        case .iceOptions(let options):
            if name { out.append("ice-options:") }
            out.append(words: options)
        case .fingerprint(let fingerprint):
            if name { out.append("fingerprint:") }
            out.append(fingerprint.hashFunction, " ")
            out.append(fingerprint.fingerprint)
        case .setup(let role):
            if name { out.append("setup:") }
            switch role {
            case .active: out.append("active")
            case .passive: out.append("passive")
            case .actpass: out.append("actpass")
            case .holdconn: out.append("holdconn")
            }
        case .crypto(let crypto):
            if name { out.append("crypto:") }
            out.append(decimal: crypto.tag)
            out.append(" ", crypto.suite)
            out.append(" ", crypto.keyParams)
            if let session = crypto.sessionParams { out.append(" ", session) }
        case .rtcp(let rtcp):
            if name { out.append("rtcp:") }
            out.append(decimal: rtcp.port)
            if let connection = rtcp.connection {
                out.append(" ")
                connection.write(to: &out)
            }
        case .ptime(let milliseconds):
            if name { out.append("ptime:") }
            out.append(decimal: milliseconds)
        case .maxptime(let milliseconds):
            if name { out.append("maxptime:") }
            out.append(decimal: milliseconds)
        case .sctpPort(let port):
            if name { out.append("sctp-port:") }
            out.append(decimal: port)
        case .maxMessageSize(let size):
            if name { out.append("max-message-size:") }
            out.append(decimal: size)
        case .sctpmap(let map):
            if name { out.append("sctpmap:") }
            out.append(decimal: map.port)
            out.append(" ", map.protocolName)
            if let streams = map.streams {
                out.append(" ")
                out.append(decimal: streams)
            }
        case .msid(let msid):
            if name { out.append("msid:") }
            out.append(msid.streamID)
            if let track = msid.trackID { out.append(" ", track) }
        case .msidSemantic(let semantic):
            if name { out.append("msid-semantic:") }
            out.append(semantic.semantic)
            for identifier in semantic.identifiers { out.append(" ", identifier) }
        case .other(let attributeName, let value):
            if name {
                out.append(attributeName)
                if value != nil { out.append(":") }
            }
            if let value { out.append(value) }
        case .extmapAllowMixed: if name { out.append("extmap-allow-mixed") }
        case .endOfCandidates: if name { out.append("end-of-candidates") }
        case .iceLite: if name { out.append("ice-lite") }
        case .rtcpMux: if name { out.append("rtcp-mux") }
        case .rtcpRsize: if name { out.append("rtcp-rsize") }
        case .direction(let direction): if name { direction.write(to: &out) }
        }
    }
}

extension SDPDirection {
    borrowing func write(to out: inout SDPWriter) {
        switch self {
        case .sendrecv: out.append("sendrecv")
        case .sendonly: out.append("sendonly")
        case .recvonly: out.append("recvonly")
        case .inactive: out.append("inactive")
        }
    }
}

/// The serializer's output: UTF-8 bytes written into one buffer that grows by doubling, made into a String
/// once at the end. Appending a piece is a bounds check and a copy; no String is made or grown per line, and
/// numbers are written as digits in place instead of going through `String(_:)`.
struct SDPWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The text written so far. Everything appended was either ASCII or the bytes of a String, so the buffer is
    /// valid UTF-8 and decoding it replaces nothing.
    consuming func string() -> String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if capacity - count < extra { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ literal: StaticString) {
        let length = literal.utf8CodeUnitCount
        reserve(length)
        (base + count).initialize(from: literal.utf8Start, count: length)
        count += length
    }

    @inline(__always)
    mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard let source = bytes.baseAddress else { return }
            let length = bytes.count
            reserve(length)
            let target = base + count
            // Most pieces are a few bytes: a loop is cheaper than a call to memcpy.
            if length <= 16 {
                for index in 0..<length { target[index] = source[index] }
            } else {
                target.initialize(from: source, count: length)
            }
            count += length
        }
        if copied == nil {
            // A bridged or otherwise non-contiguous String: copy it byte by byte.
            for byte in text.utf8 {
                reserve(1)
                base[count] = byte
                count += 1
            }
        }
    }

    /// Appends `text` then `separator`, or the other way round: the usual pairs of a field and a space.
    @inline(__always)
    mutating func append(_ text: String, _ separator: StaticString) {
        append(text)
        append(separator)
    }

    @inline(__always)
    mutating func append(_ separator: StaticString, _ text: String) {
        append(separator)
        append(text)
    }

    /// `words` joined by single spaces.
    mutating func append(words: [String]) {
        for (index, word) in words.enumerated() {
            if index > 0 { append(" ") }
            append(word)
        }
    }

    /// The decimal digits of `value`, written in place from the last, two at a time from a table of the pairs
    /// `00` to `99` (half the divisions of one digit at a time).
    mutating func append(decimal value: some UnsignedInteger & FixedWidthInteger) {
        var remaining = UInt64(value)
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20, remaining >= scale {
            digits += 1
            scale = scale &* 10
        }
        reserve(digits)
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let table = pairs.utf8Start
        var position = count + digits
        while remaining >= 100 {
            let pair = Int(remaining % 100) * 2
            remaining /= 100
            position -= 2
            base[position] = table[pair]
            base[position + 1] = table[pair + 1]
        }
        if remaining >= 10 {
            let pair = Int(remaining) * 2
            base[position - 2] = table[pair]
            base[position - 1] = table[pair + 1]
        } else {
            base[position - 1] = UInt8(truncatingIfNeeded: remaining) &+ 0x30
        }
        count += digits
    }

    /// Starts a line with its type and `=`, e.g. `a=`.
    @inline(__always)
    mutating func start(_ type: StaticString) { append(type) }

    @inline(__always)
    mutating func endLine() { append("\r\n") }

    /// A whole `<type>=<text>` line.
    mutating func line(_ type: StaticString, _ text: String) {
        append(type)
        append(text)
        endLine()
    }
}
