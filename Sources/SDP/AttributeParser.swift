/// The attribute names the parser types (RFC 8866 §6 and the RFCs of each case of ``SDPAttribute``), found
/// from the name's bytes without making a String of it.
enum TypedAttributeName {
    case rtpmap, fmtp, rtcpFeedback, extmap, extmapAllowMixed, ssrc, ssrcGroup, group, mid, candidate
    case endOfCandidates, remoteCandidates, iceUfrag, icePwd, iceOptions, iceLite, fingerprint, setup, crypto
    case rtcp, rtcpMux, rtcpRsize, ptime, maxptime, sendrecv, sendonly, recvonly, inactive, sctpPort
    case maxMessageSize, sctpmap, msid, msidSemantic

    /// The typed name spelled by `name`, or nil for an attribute kept as ``SDPAttribute/other(name:value:)``.
    /// Switching on the length first leaves at most a few byte comparisons for any name.
    init?(_ name: Bytes) {
        let match: TypedAttributeName? = switch name.count {
        case 3: name.equals("mid") ? .mid : nil
        case 4:
            name.equals("fmtp") ? .fmtp : name.equals("ssrc") ? .ssrc : name.equals("rtcp") ? .rtcp
                : name.equals("msid") ? .msid : nil
        case 5: name.equals("group") ? .group : name.equals("setup") ? .setup : name.equals("ptime") ? .ptime : nil
        case 6: name.equals("rtpmap") ? .rtpmap : name.equals("extmap") ? .extmap : name.equals("crypto") ? .crypto : nil
        case 7:
            name.equals("rtcp-fb") ? .rtcpFeedback : name.equals("ice-pwd") ? .icePwd
                : name.equals("sctpmap") ? .sctpmap : nil
        case 8:
            name.equals("sendrecv") ? .sendrecv : name.equals("rtcp-mux") ? .rtcpMux : name.equals("sendonly") ? .sendonly
                : name.equals("recvonly") ? .recvonly : name.equals("inactive") ? .inactive
                : name.equals("ice-lite") ? .iceLite : name.equals("maxptime") ? .maxptime : nil
        case 9:
            name.equals("candidate") ? .candidate : name.equals("ice-ufrag") ? .iceUfrag
                : name.equals("sctp-port") ? .sctpPort : nil
        case 10: name.equals("ssrc-group") ? .ssrcGroup : name.equals("rtcp-rsize") ? .rtcpRsize : nil
        case 11: name.equals("fingerprint") ? .fingerprint : name.equals("ice-options") ? .iceOptions : nil
        case 13: name.equals("msid-semantic") ? .msidSemantic : nil
        case 16: name.equals("max-message-size") ? .maxMessageSize : nil
        case 17: name.equals("end-of-candidates") ? .endOfCandidates : name.equals("remote-candidates") ? .remoteCandidates : nil
        case 18: name.equals("extmap-allow-mixed") ? .extmapAllowMixed : nil
        default: nil
        }
        guard let match else { return nil }
        self = match
    }
}

/// Grammars of the typed attributes. Each function gets the bytes after `a=<name>:` and throws
/// ``SDPError/Kind/malformedAttribute`` naming the attribute and the RFC section it breaks.
extension ValueReader {
    /// Reads the text after `a=` and appends the attribute to `attributes` (built in place: the attribute enum is
    /// large, and returning it through each level would move it each time). `hasControl` is false when the line
    /// is known to hold no NUL or CR.
    mutating func attribute(_ text: Bytes, line: Int, hasControl: Bool, policy: SDPParser.MalformedAttributePolicy,
                            into attributes: inout [SDPAttribute]) throws(SDPError) {
        let name: Bytes
        let value: Bytes?
        if let (head, tail) = text.splitOnce(at: UInt8(ascii: ":")) {
            name = head
            value = tail
        } else {
            // A flag attribute with trailing spaces (`a=sendrecv `, as some SIP phones write): the spaces carry
            // nothing and cannot be part of a token, so they are dropped rather than failing the whole SDP.
            name = text.trimmed
            value = nil
        }
        // Every typed name is a token, so only the others need the byte-by-byte test.
        let typedName = TypedAttributeName(name)
        guard typedName != nil || name.isToken else {
            throw SDPError(.malformedLine, line: line, "attribute name must be a token (RFC 8866 §5.13), got \(quoted(text))")
        }
        guard !hasControl || value?.isLineText ?? true else {
            throw SDPError(.malformedLine, line: line, "attribute value holds a control character (RFC 8866 §9)")
        }
        guard let typedName else { return attributes.append(.other(name: name.string, value: value?.string)) }
        do {
            attributes.append(try typed(typedName, name, value, line: line))
        } catch {
            switch policy {
            case .reject: throw error
            case .keepAsOther: attributes.append(.other(name: name.string, value: value?.string))
            }
        }
    }

    private mutating func typed(_ typedName: TypedAttributeName, _ nameBytes: Bytes, _ value: Bytes?,
                                line: Int) throws(SDPError) -> SDPAttribute {
        // The name as text only for messages: a valid line never needs it.
        var name: String { nameBytes.string }
        func required() throws(SDPError) -> Bytes {
            guard let value else { throw SDPError(.malformedAttribute, line: line, "a=\(name) needs a value") }
            return value
        }
        func flag(_ attribute: SDPAttribute) throws(SDPError) -> SDPAttribute {
            if let value {
                throw SDPError(.malformedAttribute, line: line, "a=\(name) is a property attribute and takes no value, got \(quoted(value))")
            }
            return attribute
        }
        switch typedName {
        case .rtpmap: return .rtpmap(try rtpmap(required(), line: line))
        case .fmtp: return .fmtp(try Self.fmtp(required(), line: line))
        case .rtcpFeedback: return .rtcpFeedback(try rtcpFeedback(required(), line: line))
        case .extmap: return .extmap(try extmap(required(), line: line))
        case .extmapAllowMixed: return try flag(.extmapAllowMixed)
        case .ssrc: return .ssrc(try ssrc(required(), line: line))
        case .ssrcGroup: return .ssrcGroup(try ssrcGroup(required(), line: line))
        case .group: return .group(try group(required(), line: line))
        case .mid: return .mid(try Self.singleField(required(), name: name, rfc: "RFC 5888 §4", line: line))
        case .candidate: return .candidate(try candidate(required(), line: line))
        case .endOfCandidates: return try flag(.endOfCandidates)
        case .remoteCandidates: return .remoteCandidates(try remoteCandidates(required(), line: line))
        case .iceUfrag: return .iceUfrag(try Self.singleField(required(), name: name, rfc: "RFC 8839 §5.4", line: line))
        case .icePwd: return .icePwd(try Self.singleField(required(), name: name, rfc: "RFC 8839 §5.4", line: line))
        case .iceOptions:
            guard fields.split(try required()) > 0 else { throw Self.malformed(name, "needs at least one option (RFC 8839 §5.6)", line) }
            return .iceOptions(fields.strings(from: 0))
        case .iceLite: return try flag(.iceLite)
        case .fingerprint: return .fingerprint(try fingerprint(required(), line: line))
        case .setup:
            let role = try required().trimmed
            guard let setup = SDPSetupRole(bytes: role) else {
                throw Self.malformed(name, "must be active, passive, actpass or holdconn (RFC 4145 §4), got \(quoted(role))", line)
            }
            return .setup(setup)
        case .crypto: return .crypto(try crypto(required(), line: line))
        case .rtcp: return .rtcp(try rtcp(required(), line: line))
        case .rtcpMux: return try flag(.rtcpMux)
        case .rtcpRsize: return try flag(.rtcpRsize)
        case .ptime, .maxptime:
            let text = try required().trimmed
            if let milliseconds: UInt32 = parseUnsigned(bytes: text) {
                return typedName == .ptime ? .ptime(milliseconds) : .maxptime(milliseconds)
            }
            // RFC 8866 §6.4 allows a fraction; keep it as written rather than round it.
            if let (whole, fraction) = text.splitOnce(at: UInt8(ascii: ".")), whole.isDigits, fraction.isDigits {
                return .other(name: name, value: value?.string ?? "")
            }
            throw Self.malformed(name, "must be a number of milliseconds (RFC 8866 §6.4), got \(quoted(text))", line)
        case .sendrecv: return try flag(.direction(.sendrecv))
        case .sendonly: return try flag(.direction(.sendonly))
        case .recvonly: return try flag(.direction(.recvonly))
        case .inactive: return try flag(.direction(.inactive))
        case .sctpPort: return .sctpPort(try Self.number(required().trimmed, UInt16.self, name: name, line: line))
        case .maxMessageSize: return .maxMessageSize(try Self.number(required().trimmed, UInt64.self, name: name, line: line))
        case .sctpmap: return .sctpmap(try sctpmap(required(), line: line))
        case .msid: return .msid(try msid(required(), line: line))
        case .msidSemantic: return .msidSemantic(try msidSemantic(required(), line: line))
        }
    }

    static func malformed(_ name: String, _ problem: String, _ line: Int) -> SDPError {
        SDPError(.malformedAttribute, line: line, "a=\(name) \(problem)")
    }

    static func number<T: FixedWidthInteger & UnsignedInteger>(_ text: Bytes, _ type: T.Type, name: @autoclosure () -> String,
                                                                line: Int) throws(SDPError) -> T {
        if let value: T = parseUnsigned(bytes: text) { return value }
        return try unsigned(text, type, field: "a=\(name())", line: line, kind: .malformedAttribute)
    }

    static func singleField(_ value: Bytes, name: @autoclosure () -> String, rfc: StaticString, line: Int) throws(SDPError) -> String {
        let text = value.trimmed
        guard text.isField else { throw malformed(name(), "needs one non-empty field (\(rfc)), got \(quoted(value))", line) }
        return text.string
    }

    mutating func rtpmap(_ value: Bytes, line: Int) throws(SDPError) -> SDPRTPMap {
        guard fields.split(value) == 2 else {
            throw Self.malformed("rtpmap", "needs <payload type> <encoding name>/<clock rate>[/<parameters>] (RFC 8866 §6.6), got \(quoted(value))", line)
        }
        let payloadType = try Self.number(fields[0], UInt8.self, name: "rtpmap payload type", line: line)
        guard payloadType <= 127 else {
            throw SDPError(.valueOutOfRange, line: line, "a=rtpmap payload type must be 0-127 (RFC 3551 §6), got \(payloadType)")
        }
        // <name>/<clock rate>[/<parameters>]: two or three pieces, empty ones counted.
        let encoding = fields[1]
        func malformedEncoding() -> SDPError {
            Self.malformed("rtpmap", "encoding must be <name>/<clock rate>[/<parameters>] (RFC 8866 §6.6), got \(quoted(encoding))", line)
        }
        guard let (encodingName, rates) = encoding.splitOnce(at: UInt8(ascii: "/")), encodingName.isField else {
            throw malformedEncoding()
        }
        var clockRateText = rates
        var channelsText: Bytes?
        if let (rate, channels) = rates.splitOnce(at: UInt8(ascii: "/")) {
            guard !channels.contains(UInt8(ascii: "/")) else { throw malformedEncoding() }
            clockRateText = rate
            channelsText = channels
        }
        let clockRate = try Self.number(clockRateText, UInt32.self, name: "rtpmap clock rate", line: line)
        let channels = if let channelsText { try Self.number(channelsText, UInt32.self, name: "rtpmap channels", line: line) } else { UInt32?.none }
        return SDPRTPMap(payloadType: payloadType, encodingName: encodingName.string, clockRate: clockRate, channels: channels)
    }

    static func fmtp(_ value: Bytes, line: Int) throws(SDPError) -> SDPFormatParameters {
        let text = value.trimmed
        let format: Bytes
        var rest: Bytes
        if let (head, tail) = text.splitOnce(at: 0x20) {
            format = head
            rest = tail
        } else {
            format = text
            rest = Bytes(start: nil, count: 0)
        }
        guard format.isField else { throw malformed("fmtp", "needs a format (RFC 8866 §6.15), got \(quoted(value))", line) }
        var parameters: [SDPFormatParameter] = []
        if !rest.isEmpty { parameters.reserveCapacity(rest.reduce(1) { $0 + ($1 == UInt8(ascii: ";") ? 1 : 0) }) }
        // Pieces between `;`, empty ones skipped.
        while !rest.isEmpty {
            let piece: Bytes
            if let (head, tail) = rest.splitOnce(at: UInt8(ascii: ";")) {
                piece = head
                rest = tail
            } else {
                piece = rest
                rest = Bytes(start: nil, count: 0)
            }
            let item = piece.trimmed
            if item.isEmpty { continue }
            if let (name, parameterValue) = item.splitOnce(at: UInt8(ascii: "=")) {
                parameters.append(SDPFormatParameter(name: name.trimmed.string, value: parameterValue.trimmed.string))
            } else {
                parameters.append(SDPFormatParameter(name: nil, value: item.string))
            }
        }
        return SDPFormatParameters(format: format.string, parameters: parameters)
    }

    mutating func rtcpFeedback(_ value: Bytes, line: Int) throws(SDPError) -> SDPRTCPFeedback {
        let count = fields.split(value, maxSplits: 2)
        guard count >= 2, fields[1].isToken else {
            throw Self.malformed("rtcp-fb", "needs <payload type or *> <type> [<parameter>] (RFC 4585 §4.2), got \(quoted(value))", line)
        }
        let format: SDPFormatSelector = fields[0].equals("*") ? .all : .format(fields[0].string)
        let parameter = count == 3 ? fields[2].trimmed : nil
        if fields[1].equals("trr-int"), !(parameter?.isDigits ?? false) {
            throw Self.malformed("rtcp-fb", "trr-int needs a number of milliseconds (RFC 4585 §4.2), got \(quoted(value))", line)
        }
        return SDPRTCPFeedback(format: format, type: fields[1].string,
                               parameter: parameter.flatMap { $0.isEmpty ? nil : $0.string })
    }

    mutating func extmap(_ value: Bytes, line: Int) throws(SDPError) -> SDPExtmap {
        let count = fields.split(value, maxSplits: 2)
        guard count >= 2 else {
            throw Self.malformed("extmap", "needs <id>[/<direction>] <URI> (RFC 8285 §7), got \(quoted(value))", line)
        }
        var idText = fields[0]
        var direction: SDPDirection?
        if let (id, directionText) = fields[0].splitOnce(at: UInt8(ascii: "/")) {
            idText = id
            guard let parsed = SDPDirection(bytes: directionText) else {
                throw Self.malformed("extmap", "direction must be sendrecv, sendonly, recvonly or inactive (RFC 8285 §7), got \(quoted(directionText))", line)
            }
            direction = parsed
        }
        let id = try Self.number(idText, UInt16.self, name: "extmap id", line: line)
        let attributes = count == 3 ? fields[2].trimmed : Bytes(start: nil, count: 0)
        return SDPExtmap(id: id, direction: direction, uri: fields[1].string,
                         extensionAttributes: attributes.isEmpty ? nil : attributes.string)
    }

    mutating func ssrc(_ value: Bytes, line: Int) throws(SDPError) -> SDPSourceAttribute {
        guard fields.split(value, maxSplits: 1) == 2 else {
            throw Self.malformed("ssrc", "needs <ssrc-id> <attribute>[:<value>] (RFC 5576 §4.1), got \(quoted(value))", line)
        }
        let ssrc = try Self.number(fields[0], UInt32.self, name: "ssrc id", line: line)
        let rest = fields[1].trimmed
        if let (name, attributeValue) = rest.splitOnce(at: UInt8(ascii: ":")) {
            guard name.isToken else { throw Self.malformed("ssrc", "source attribute name must be a token, got \(quoted(name))", line) }
            return SDPSourceAttribute(ssrc: ssrc, name: name.string, value: attributeValue.string)
        }
        guard rest.isToken else { throw Self.malformed("ssrc", "source attribute name must be a token, got \(quoted(rest))", line) }
        return SDPSourceAttribute(ssrc: ssrc, name: rest.string, value: nil)
    }

    mutating func ssrcGroup(_ value: Bytes, line: Int) throws(SDPError) -> SDPSourceGroup {
        let count = fields.split(value)
        guard count > 0, fields[0].isToken else {
            throw Self.malformed("ssrc-group", "needs <semantics> <ssrc-id> … (RFC 5576 §4.2), got \(quoted(value))", line)
        }
        var ssrcs: [UInt32] = []
        ssrcs.reserveCapacity(count - 1)
        for index in 1..<count { ssrcs.append(try Self.number(fields[index], UInt32.self, name: "ssrc-group ssrc id", line: line)) }
        return SDPSourceGroup(semantics: fields[0].string, ssrcs: ssrcs)
    }

    mutating func group(_ value: Bytes, line: Int) throws(SDPError) -> SDPGroup {
        guard fields.split(value) > 0, fields[0].isToken else {
            throw Self.malformed("group", "needs <semantics> <identification-tag> … (RFC 5888 §5), got \(quoted(value))", line)
        }
        return SDPGroup(semantics: fields[0].string, identifiers: fields.strings(from: 1))
    }

    mutating func candidate(_ value: Bytes, line: Int) throws(SDPError) -> SDPCandidate {
        let count = fields.split(value)
        guard count >= 8, fields[6].equals("typ") else {
            throw Self.malformed("candidate", "needs <foundation> <component> <transport> <priority> <address> <port> typ <type> (RFC 8839 §5.1), got \(quoted(value))", line)
        }
        guard fields[0].count <= 32 else {
            throw Self.malformed("candidate", "foundation is longer than 32 characters (RFC 8839 §5.1)", line)
        }
        let component = try Self.number(fields[1], UInt16.self, name: "candidate component", line: line)
        guard fields[2].isToken else { throw Self.malformed("candidate", "transport must be a token, got \(quoted(fields[2]))", line) }
        let priority = try Self.number(fields[3], UInt32.self, name: "candidate priority", line: line)
        let port = try Self.number(fields[5], UInt16.self, name: "candidate port", line: line)
        guard fields[7].isToken else { throw Self.malformed("candidate", "type must be a token, got \(quoted(fields[7]))", line) }
        var index = 8
        var relatedAddress: String?
        var relatedPort: UInt16?
        if index + 1 < count, fields[index].equals("raddr") {
            relatedAddress = fields[index + 1].string
            index += 2
        }
        if index + 1 < count, fields[index].equals("rport") {
            relatedPort = try Self.number(fields[index + 1], UInt16.self, name: "candidate rport", line: line)
            index += 2
        }
        guard (count - index) % 2 == 0 else {
            throw Self.malformed("candidate", "extension \(quoted(fields[count - 1])) has no value (RFC 8839 §5.1)", line)
        }
        var extensions: [SDPCandidateExtension] = []
        extensions.reserveCapacity((count - index) / 2)
        while index < count {
            extensions.append(SDPCandidateExtension(name: fields[index].string, value: fields[index + 1].string))
            index += 2
        }
        return SDPCandidate(foundation: fields[0].string, component: component, transport: fields[2].string,
                            priority: priority, address: fields[4].string, port: port,
                            type: SDPCandidateType(bytes: fields[7]), relatedAddress: relatedAddress,
                            relatedPort: relatedPort, extensions: extensions)
    }

    mutating func remoteCandidates(_ value: Bytes, line: Int) throws(SDPError) -> [SDPRemoteCandidate] {
        let count = fields.split(value)
        guard count > 0, count % 3 == 0 else {
            throw Self.malformed("remote-candidates", "needs triples of <component> <address> <port> (RFC 8839 §5.2), got \(quoted(value))", line)
        }
        var result: [SDPRemoteCandidate] = []
        var index = 0
        while index < count {
            result.append(SDPRemoteCandidate(
                component: try Self.number(fields[index], UInt16.self, name: "remote-candidates component", line: line),
                address: fields[index + 1].string,
                port: try Self.number(fields[index + 2], UInt16.self, name: "remote-candidates port", line: line)))
            index += 3
        }
        return result
    }

    mutating func fingerprint(_ value: Bytes, line: Int) throws(SDPError) -> SDPFingerprint {
        guard fields.split(value) == 2, fields[0].isToken else {
            throw Self.malformed("fingerprint", "needs <hash function> <fingerprint> (RFC 8122 §5), got \(quoted(value))", line)
        }
        return SDPFingerprint(hashFunction: fields[0].string, fingerprint: fields[1].string)
    }

    mutating func crypto(_ value: Bytes, line: Int) throws(SDPError) -> SDPCrypto {
        let count = fields.split(value, maxSplits: 3)
        guard count >= 3, fields[0].count <= 9 else {
            throw Self.malformed("crypto", "needs <tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 §9.1), got \(quoted(value))", line)
        }
        let tag = try Self.number(fields[0], UInt32.self, name: "crypto tag", line: line)
        let session = count == 4 ? fields[3].trimmed : Bytes(start: nil, count: 0)
        return SDPCrypto(tag: tag, suite: fields[1].string, keyParams: fields[2].string,
                         sessionParams: session.isEmpty ? nil : session.string)
    }

    mutating func rtcp(_ value: Bytes, line: Int) throws(SDPError) -> SDPRTCPAddress {
        let count = fields.split(value)
        guard count == 1 || count == 4 else {
            throw Self.malformed("rtcp", "needs <port> [<nettype> <addrtype> <connection-address>] (RFC 3605 §2.1), got \(quoted(value))", line)
        }
        let port = try Self.number(fields[0], UInt16.self, name: "rtcp port", line: line)
        let connection = count == 4
            ? SDPConnection(networkType: fields[1].string, addressType: fields[2].string, address: fields[3].string) : nil
        return SDPRTCPAddress(port: port, connection: connection)
    }

    mutating func sctpmap(_ value: Bytes, line: Int) throws(SDPError) -> SDPSCTPMap {
        let count = fields.split(value)
        guard count == 2 || count == 3 else {
            throw Self.malformed("sctpmap", "needs <port> <protocol> [<streams>] (draft-ietf-mmusic-sctp-sdp-05 §5.1), got \(quoted(value))", line)
        }
        let port = try Self.number(fields[0], UInt16.self, name: "sctpmap port", line: line)
        let streams = count == 3 ? try Self.number(fields[2], UInt32.self, name: "sctpmap streams", line: line) : nil
        return SDPSCTPMap(port: port, protocolName: fields[1].string, streams: streams)
    }

    mutating func msid(_ value: Bytes, line: Int) throws(SDPError) -> SDPMediaStreamID {
        let count = fields.split(value)
        guard count == 1 || count == 2 else {
            throw Self.malformed("msid", "needs <stream id> [<track id>] (RFC 8830 §2), got \(quoted(value))", line)
        }
        return SDPMediaStreamID(streamID: fields[0].string, trackID: count == 2 ? fields[1].string : nil)
    }

    mutating func msidSemantic(_ value: Bytes, line: Int) throws(SDPError) -> SDPMsidSemantic {
        guard fields.split(value) > 0 else {
            throw Self.malformed("msid-semantic", "needs <semantic> [<identifier> …], got an empty value", line)
        }
        return SDPMsidSemantic(semantic: fields[0].string, identifiers: fields.strings(from: 1))
    }
}

extension SDPSetupRole {
    /// The role spelled exactly by `bytes` (as `init(rawValue:)`, without making a String; a chain of
    /// comparisons rather than a search of `allCases`, which would build an array on every call).
    init?(bytes: Bytes) {
        if bytes.equals("actpass") { self = .actpass }
        else if bytes.equals("active") { self = .active }
        else if bytes.equals("passive") { self = .passive }
        else if bytes.equals("holdconn") { self = .holdconn }
        else { return nil }
    }
}

extension SDPDirection {
    /// The direction spelled exactly by `bytes` (as `init(rawValue:)`, without making a String).
    init?(bytes: Bytes) {
        if bytes.equals("sendrecv") { self = .sendrecv }
        else if bytes.equals("sendonly") { self = .sendonly }
        else if bytes.equals("recvonly") { self = .recvonly }
        else if bytes.equals("inactive") { self = .inactive }
        else { return nil }
    }
}

extension SDPCandidateType {
    /// The type spelled by `bytes` (as `init(rawValue:)`; the four RFC 8445 types without making a String).
    init(bytes: Bytes) {
        self = bytes.equals("host") ? .host : bytes.equals("srflx") ? .srflx : bytes.equals("relay") ? .relay
            : bytes.equals("prflx") ? .prflx : .other(bytes.string)
    }
}
