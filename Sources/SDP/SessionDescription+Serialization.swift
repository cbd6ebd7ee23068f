extension SessionDescription {
    /// The description as wire text: lines in the order of RFC 8866 §5, each ended by CRLF.
    ///
    /// Session level: `v o s i u e* p* c? b* (t r*)+ z? k? a*`, then every media description
    /// `m i? c* b* k? a*`. Attributes keep their order.
    public func serialized() -> String {
        var out = ""
        out.reserveCapacity(256 + media.count * 512)
        write("v", String(version), to: &out)
        write("o", "\(origin.username) \(origin.sessionID) \(origin.sessionVersion) \(origin.networkType) \(origin.addressType) \(origin.address)", to: &out)
        write("s", sessionName, to: &out)
        if let information { write("i", information, to: &out) }
        if let uri { write("u", uri, to: &out) }
        for email in emails { write("e", email, to: &out) }
        for phone in phones { write("p", phone, to: &out) }
        if let connection { write("c", connection.serialized(), to: &out) }
        for bandwidth in bandwidths { write("b", "\(bandwidth.type):\(bandwidth.value)", to: &out) }
        for time in timing {
            write("t", "\(time.start) \(time.stop)", to: &out)
            for repeatTimes in time.repeats {
                write("r", ([repeatTimes.interval, repeatTimes.activeDuration] + repeatTimes.offsets).joined(separator: " "), to: &out)
            }
        }
        if !timeZones.isEmpty {
            write("z", timeZones.map { "\($0.adjustmentTime) \($0.offset)" }.joined(separator: " "), to: &out)
        }
        if let encryptionKey { write("k", encryptionKey, to: &out) }
        for attribute in attributes { attribute.writeLine(to: &out) }
        for section in media { section.write(to: &out) }
        return out
    }
}

extension SDPMediaDescription {
    /// This media section as wire text (`m=` and its lines, CRLF-ended).
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        var mLine = "\(media) \(port)"
        if let numberOfPorts { mLine += "/\(numberOfPorts)" }
        mLine += " \(proto)"
        for format in formats { mLine += " \(format)" }
        SDP.write("m", mLine, to: &out)
        if let information { SDP.write("i", information, to: &out) }
        for connection in connections { SDP.write("c", connection.serialized(), to: &out) }
        for bandwidth in bandwidths { SDP.write("b", "\(bandwidth.type):\(bandwidth.value)", to: &out) }
        if let encryptionKey { SDP.write("k", encryptionKey, to: &out) }
        for attribute in attributes { attribute.writeLine(to: &out) }
    }
}

extension SDPConnection {
    func serialized() -> String { "\(networkType) \(addressType) \(address)" }
}

func write(_ type: Character, _ value: String, to out: inout String) {
    out.append(type)
    out.append("=")
    out.append(value)
    out.append("\r\n")
}

extension SDPAttribute {
    /// Appends `a=<name>[:<value>]` and CRLF without building the line as a string of its own first.
    func writeLine(to out: inout String) {
        out.append("a=")
        out.append(name)
        _ = appendValue(to: &out, prefix: ":")   // false for a property attribute: the name is the whole line
        out.append("\r\n")
    }

    /// Appends `prefix` and the value for the attributes a browser offer is made of, piece by piece (no
    /// interpolated string per line); true when it wrote. Other kinds go through ``serializedValue``.
    private func appendValue(to out: inout String, prefix: String) -> Bool {
        switch self {
        case .rtpmap(let map):
            out.append(prefix); out.append(String(map.payloadType)); out.append(" "); out.append(map.encodingName)
            out.append("/"); out.append(String(map.clockRate))
            if let channels = map.channels { out.append("/"); out.append(String(channels)) }
        case .fmtp(let fmtp):
            out.append(prefix); out.append(fmtp.format)
            for (index, parameter) in fmtp.parameters.enumerated() {
                out.append(index == 0 ? " " : ";")
                if let name = parameter.name { out.append(name); out.append("=") }
                out.append(parameter.value)
            }
        case .rtcpFeedback(let feedback):
            out.append(prefix)
            switch feedback.format {
            case .all: out.append("*")
            case .format(let value): out.append(value)
            }
            out.append(" "); out.append(feedback.type)
            if let parameter = feedback.parameter { out.append(" "); out.append(parameter) }
        case .ssrc(let source):
            out.append(prefix); out.append(String(source.ssrc)); out.append(" "); out.append(source.name)
            if let value = source.value { out.append(":"); out.append(value) }
        case .candidate(let c):
            out.append(prefix); out.append(c.foundation); out.append(" "); out.append(String(c.component)); out.append(" ")
            out.append(c.transport); out.append(" "); out.append(String(c.priority)); out.append(" "); out.append(c.address)
            out.append(" "); out.append(String(c.port)); out.append(" typ "); out.append(c.type.rawValue)
            if let relatedAddress = c.relatedAddress { out.append(" raddr "); out.append(relatedAddress) }
            if let relatedPort = c.relatedPort { out.append(" rport "); out.append(String(relatedPort)) }
            for pair in c.extensions { out.append(" "); out.append(pair.name); out.append(" "); out.append(pair.value) }
        case .mid(let value), .iceUfrag(let value), .icePwd(let value):
            out.append(prefix); out.append(value)
        case .fingerprint(let fingerprint):
            out.append(prefix); out.append(fingerprint.hashFunction); out.append(" "); out.append(fingerprint.fingerprint)
        case .setup(let role):
            out.append(prefix); out.append(role.rawValue)
        case .extmapAllowMixed, .endOfCandidates, .iceLite, .rtcpMux, .rtcpRsize, .direction:
            return false
        default:
            guard let value = serializedValue else { return false }
            out.append(prefix); out.append(value)
        }
        return true
    }

    /// The text after `a=`: `name` or `name:value`.
    public func serialized() -> String {
        guard let value = serializedValue else { return name }
        return "\(name):\(value)"
    }

    /// The text after `a=<name>:`, or nil for property attributes.
    public var serializedValue: String? {
        switch self {
        case .rtpmap(let map):
            var text = "\(map.payloadType) \(map.encodingName)/\(map.clockRate)"
            if let channels = map.channels { text += "/\(channels)" }
            return text
        case .fmtp(let fmtp):
            if fmtp.parameters.isEmpty { return fmtp.format }
            let parameters = fmtp.parameters.map { parameter in
                parameter.name.map { "\($0)=\(parameter.value)" } ?? parameter.value
            }
            return "\(fmtp.format) \(parameters.joined(separator: ";"))"
        case .rtcpFeedback(let feedback):
            let format = switch feedback.format {
            case .all: "*"
            case .format(let value): value
            }
            return feedback.parameter.map { "\(format) \(feedback.type) \($0)" } ?? "\(format) \(feedback.type)"
        case .extmap(let extmap):
            var text = "\(extmap.id)"
            if let direction = extmap.direction { text += "/\(direction.rawValue)" }
            text += " \(extmap.uri)"
            if let attributes = extmap.extensionAttributes { text += " \(attributes)" }
            return text
        case .ssrc(let source):
            return source.value.map { "\(source.ssrc) \(source.name):\($0)" } ?? "\(source.ssrc) \(source.name)"
        case .ssrcGroup(let group):
            return ([group.semantics] + group.ssrcs.map(String.init)).joined(separator: " ")
        case .group(let group):
            return ([group.semantics] + group.identifiers).joined(separator: " ")
        case .mid(let mid):
            return mid
        case .candidate(let candidate):
            return candidate.serialized()
        case .remoteCandidates(let candidates):
            return candidates.map { "\($0.component) \($0.address) \($0.port)" }.joined(separator: " ")
        case .iceUfrag(let ufrag):
            return ufrag
        case .icePwd(let pwd):
            return pwd
        case .iceOptions(let options):
            return options.joined(separator: " ")
        case .fingerprint(let fingerprint):
            return "\(fingerprint.hashFunction) \(fingerprint.fingerprint)"
        case .setup(let role):
            return role.rawValue
        case .crypto(let crypto):
            let text = "\(crypto.tag) \(crypto.suite) \(crypto.keyParams)"
            return crypto.sessionParams.map { "\(text) \($0)" } ?? text
        case .rtcp(let rtcp):
            return rtcp.connection.map { "\(rtcp.port) \($0.serialized())" } ?? "\(rtcp.port)"
        case .ptime(let milliseconds), .maxptime(let milliseconds):
            return String(milliseconds)
        case .sctpPort(let port):
            return String(port)
        case .maxMessageSize(let size):
            return String(size)
        case .sctpmap(let map):
            return map.streams.map { "\(map.port) \(map.protocolName) \($0)" } ?? "\(map.port) \(map.protocolName)"
        case .msid(let msid):
            return msid.trackID.map { "\(msid.streamID) \($0)" } ?? msid.streamID
        case .msidSemantic(let semantic):
            return ([semantic.semantic] + semantic.identifiers).joined(separator: " ")
        case .other(_, let value):
            return value
        case .extmapAllowMixed, .endOfCandidates, .iceLite, .rtcpMux, .rtcpRsize, .direction:
            return nil
        }
    }
}
