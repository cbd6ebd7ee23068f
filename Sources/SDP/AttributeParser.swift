/// Grammars of the typed attributes. Each function gets the text after `a=<name>:` and throws
/// ``SDPError/Kind/malformedAttribute`` naming the attribute and the RFC section it breaks.
enum AttributeParser {
    static func attribute(_ text: Substring, line: Int, policy: SDPParser.MalformedAttributePolicy) throws(SDPError) -> SDPAttribute {
        let name: Substring
        let value: Substring?
        if let (head, tail) = splitOnce(text, at: ":") {
            name = head
            value = tail
        } else {
            name = text
            value = nil
        }
        guard isToken(name) else {
            throw SDPError(.malformedLine, line: line, "attribute name must be a token (RFC 8866 §5.13), got \(quoted(text))")
        }
        guard isLineText(value ?? "") else {
            throw SDPError(.malformedLine, line: line, "attribute value holds a control character (RFC 8866 §9)")
        }
        do {
            return try typed(String(name), value, line: line)
        } catch {
            switch policy {
            case .reject: throw error
            case .keepAsOther: return .other(name: String(name), value: value.map(String.init))
            }
        }
    }

    private static func typed(_ name: String, _ value: Substring?, line: Int) throws(SDPError) -> SDPAttribute {
        func required() throws(SDPError) -> Substring {
            guard let value else { throw SDPError(.malformedAttribute, line: line, "a=\(name) needs a value") }
            return value
        }
        func flag(_ attribute: SDPAttribute) throws(SDPError) -> SDPAttribute {
            guard value == nil else {
                throw SDPError(.malformedAttribute, line: line, "a=\(name) is a property attribute and takes no value, got \(quoted(value ?? ""))")
            }
            return attribute
        }
        // Matching the length first skips the full string comparison for nearly every case that cannot match.
        switch (name.utf8.count, name) {
        case (6, "rtpmap"): return .rtpmap(try rtpmap(required(), line: line))
        case (4, "fmtp"): return .fmtp(try fmtp(required(), line: line))
        case (7, "rtcp-fb"): return .rtcpFeedback(try rtcpFeedback(required(), line: line))
        case (6, "extmap"): return .extmap(try extmap(required(), line: line))
        case (18, "extmap-allow-mixed"): return try flag(.extmapAllowMixed)
        case (4, "ssrc"): return .ssrc(try ssrc(required(), line: line))
        case (10, "ssrc-group"): return .ssrcGroup(try ssrcGroup(required(), line: line))
        case (5, "group"): return .group(try group(required(), line: line))
        case (3, "mid"): return .mid(try singleField(required(), name: name, rfc: "RFC 5888 §4", line: line))
        case (9, "candidate"): return .candidate(try candidate(required(), line: line))
        case (17, "end-of-candidates"): return try flag(.endOfCandidates)
        case (17, "remote-candidates"): return .remoteCandidates(try remoteCandidates(required(), line: line))
        case (9, "ice-ufrag"): return .iceUfrag(try singleField(required(), name: name, rfc: "RFC 8839 §5.4", line: line))
        case (7, "ice-pwd"): return .icePwd(try singleField(required(), name: name, rfc: "RFC 8839 §5.4", line: line))
        case (11, "ice-options"):
            let options = spaceSeparated(try required())
            guard !options.isEmpty else { throw malformed(name, "needs at least one option (RFC 8839 §5.6)", line) }
            return .iceOptions(options.map(String.init))
        case (8, "ice-lite"): return try flag(.iceLite)
        case (11, "fingerprint"): return .fingerprint(try fingerprint(required(), line: line))
        case (5, "setup"):
            let role = trimmed(try required())
            guard let setup = SDPSetupRole(rawValue: String(role)) else {
                throw malformed(name, "must be active, passive, actpass or holdconn (RFC 4145 §4), got \(quoted(role))", line)
            }
            return .setup(setup)
        case (6, "crypto"): return .crypto(try crypto(required(), line: line))
        case (4, "rtcp"): return .rtcp(try rtcp(required(), line: line))
        case (8, "rtcp-mux"): return try flag(.rtcpMux)
        case (10, "rtcp-rsize"): return try flag(.rtcpRsize)
        case (5, "ptime"), (8, "maxptime"):
            let text = trimmed(try required())
            if let milliseconds: UInt32 = parseUnsigned(text) {
                return name == "ptime" ? .ptime(milliseconds) : .maxptime(milliseconds)
            }
            // RFC 8866 §6.4 allows a fraction; keep it as written rather than round it.
            if let (whole, fraction) = splitOnce(text, at: "."), isDigits(whole), isDigits(fraction) {
                return .other(name: name, value: String(value ?? ""))
            }
            throw malformed(name, "must be a number of milliseconds (RFC 8866 §6.4), got \(quoted(text))", line)
        case (8, "sendrecv"): return try flag(.direction(.sendrecv))
        case (8, "sendonly"): return try flag(.direction(.sendonly))
        case (8, "recvonly"): return try flag(.direction(.recvonly))
        case (8, "inactive"): return try flag(.direction(.inactive))
        case (9, "sctp-port"):
            return .sctpPort(try number(trimmed(required()), UInt16.self, name: name, line: line))
        case (16, "max-message-size"):
            return .maxMessageSize(try number(trimmed(required()), UInt64.self, name: name, line: line))
        case (7, "sctpmap"): return .sctpmap(try sctpmap(required(), line: line))
        case (4, "msid"): return .msid(try msid(required(), line: line))
        case (13, "msid-semantic"): return .msidSemantic(try msidSemantic(required(), line: line))
        default: return .other(name: name, value: value.map(String.init))
        }
    }

    static func malformed(_ name: String, _ problem: String, _ line: Int) -> SDPError {
        SDPError(.malformedAttribute, line: line, "a=\(name) \(problem)")
    }

    static func number<T: FixedWidthInteger & UnsignedInteger>(_ text: Substring, _ type: T.Type, name: String, line: Int) throws(SDPError) -> T {
        try LineParser.unsigned(text, type, field: "a=\(name)", line: line, kind: .malformedAttribute)
    }

    static func singleField(_ value: Substring, name: String, rfc: String, line: Int) throws(SDPError) -> String {
        let text = trimmed(value)
        guard isField(text) else { throw malformed(name, "needs one non-empty field (\(rfc)), got \(quoted(value))", line) }
        return String(text)
    }

    static func rtpmap(_ value: Substring, line: Int) throws(SDPError) -> SDPRTPMap {
        let parts = spaceSeparated(value)
        guard parts.count == 2 else {
            throw malformed("rtpmap", "needs <payload type> <encoding name>/<clock rate>[/<parameters>] (RFC 8866 §6.6), got \(quoted(value))", line)
        }
        let payloadType = try number(parts[0], UInt8.self, name: "rtpmap payload type", line: line)
        guard payloadType <= 127 else {
            throw SDPError(.valueOutOfRange, line: line, "a=rtpmap payload type must be 0-127 (RFC 3551 §6), got \(payloadType)")
        }
        let encoding = parts[1].utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
        guard encoding.count == 2 || encoding.count == 3, isField(encoding[0]) else {
            throw malformed("rtpmap", "encoding must be <name>/<clock rate>[/<parameters>] (RFC 8866 §6.6), got \(quoted(parts[1]))", line)
        }
        let clockRate = try number(encoding[1], UInt32.self, name: "rtpmap clock rate", line: line)
        let channels = encoding.count == 3 ? try number(encoding[2], UInt32.self, name: "rtpmap channels", line: line) : nil
        return SDPRTPMap(payloadType: payloadType, encodingName: String(encoding[0]), clockRate: clockRate, channels: channels)
    }

    static func fmtp(_ value: Substring, line: Int) throws(SDPError) -> SDPFormatParameters {
        let text = trimmed(value)
        let format: Substring
        let rest: Substring
        if let (head, tail) = splitOnce(text, at: " ") {
            format = head
            rest = tail
        } else {
            format = text
            rest = ""
        }
        guard isField(format) else { throw malformed("fmtp", "needs a format (RFC 8866 §6.15), got \(quoted(value))", line) }
        var parameters: [SDPFormatParameter] = []
        for piece in rest.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
            let item = trimmed(Substring(piece))
            if item.isEmpty { continue }
            if let (name, parameterValue) = splitOnce(item, at: "=") {
                parameters.append(SDPFormatParameter(name: String(trimmed(name)), value: String(trimmed(parameterValue))))
            } else {
                parameters.append(SDPFormatParameter(name: nil, value: String(item)))
            }
        }
        return SDPFormatParameters(format: String(format), parameters: parameters)
    }

    static func rtcpFeedback(_ value: Substring, line: Int) throws(SDPError) -> SDPRTCPFeedback {
        let parts = spaceSeparated(value, maxSplits: 2)
        guard parts.count >= 2, isToken(parts[1]) else {
            throw malformed("rtcp-fb", "needs <payload type or *> <type> [<parameter>] (RFC 4585 §4.2), got \(quoted(value))", line)
        }
        let format: SDPFormatSelector = parts[0] == "*" ? .all : .format(String(parts[0]))
        let parameter = parts.count == 3 ? trimmed(parts[2]) : nil
        if parts[1] == "trr-int", !(parameter.map(isDigits) ?? false) {
            throw malformed("rtcp-fb", "trr-int needs a number of milliseconds (RFC 4585 §4.2), got \(quoted(value))", line)
        }
        return SDPRTCPFeedback(format: format, type: String(parts[1]), parameter: parameter.flatMap { $0.isEmpty ? nil : String($0) })
    }

    static func extmap(_ value: Substring, line: Int) throws(SDPError) -> SDPExtmap {
        let parts = spaceSeparated(value, maxSplits: 2)
        guard parts.count >= 2 else {
            throw malformed("extmap", "needs <id>[/<direction>] <URI> (RFC 8285 §7), got \(quoted(value))", line)
        }
        var idText = parts[0]
        var direction: SDPDirection?
        if let (id, directionText) = splitOnce(parts[0], at: "/") {
            idText = id
            guard let parsed = SDPDirection(rawValue: String(directionText)) else {
                throw malformed("extmap", "direction must be sendrecv, sendonly, recvonly or inactive (RFC 8285 §7), got \(quoted(directionText))", line)
            }
            direction = parsed
        }
        let id = try number(idText, UInt16.self, name: "extmap id", line: line)
        let attributes = parts.count == 3 ? trimmed(parts[2]) : ""
        return SDPExtmap(id: id, direction: direction, uri: String(parts[1]),
                         extensionAttributes: attributes.isEmpty ? nil : String(attributes))
    }

    static func ssrc(_ value: Substring, line: Int) throws(SDPError) -> SDPSourceAttribute {
        let parts = spaceSeparated(value, maxSplits: 1)
        guard parts.count == 2 else {
            throw malformed("ssrc", "needs <ssrc-id> <attribute>[:<value>] (RFC 5576 §4.1), got \(quoted(value))", line)
        }
        let ssrc = try number(parts[0], UInt32.self, name: "ssrc id", line: line)
        let rest = trimmed(parts[1])
        if let (name, attributeValue) = splitOnce(rest, at: ":") {
            guard isToken(name) else { throw malformed("ssrc", "source attribute name must be a token, got \(quoted(name))", line) }
            return SDPSourceAttribute(ssrc: ssrc, name: String(name), value: String(attributeValue))
        }
        guard isToken(rest) else { throw malformed("ssrc", "source attribute name must be a token, got \(quoted(rest))", line) }
        return SDPSourceAttribute(ssrc: ssrc, name: String(rest), value: nil)
    }

    static func ssrcGroup(_ value: Substring, line: Int) throws(SDPError) -> SDPSourceGroup {
        let parts = spaceSeparated(value)
        guard let semantics = parts.first, isToken(semantics) else {
            throw malformed("ssrc-group", "needs <semantics> <ssrc-id> … (RFC 5576 §4.2), got \(quoted(value))", line)
        }
        var ssrcs: [UInt32] = []
        for part in parts.dropFirst() { ssrcs.append(try number(part, UInt32.self, name: "ssrc-group ssrc id", line: line)) }
        return SDPSourceGroup(semantics: String(semantics), ssrcs: ssrcs)
    }

    static func group(_ value: Substring, line: Int) throws(SDPError) -> SDPGroup {
        let parts = spaceSeparated(value)
        guard let semantics = parts.first, isToken(semantics) else {
            throw malformed("group", "needs <semantics> <identification-tag> … (RFC 5888 §5), got \(quoted(value))", line)
        }
        return SDPGroup(semantics: String(semantics), identifiers: parts.dropFirst().map(String.init))
    }

    static func candidate(_ value: Substring, line: Int) throws(SDPError) -> SDPCandidate {
        let parts = spaceSeparated(value)
        guard parts.count >= 8, parts[6] == "typ" else {
            throw malformed("candidate", "needs <foundation> <component> <transport> <priority> <address> <port> typ <type> (RFC 8839 §5.1), got \(quoted(value))", line)
        }
        guard parts[0].utf8.count <= 32 else {
            throw malformed("candidate", "foundation is longer than 32 characters (RFC 8839 §5.1)", line)
        }
        let component = try number(parts[1], UInt16.self, name: "candidate component", line: line)
        guard isToken(parts[2]) else { throw malformed("candidate", "transport must be a token, got \(quoted(parts[2]))", line) }
        let priority = try number(parts[3], UInt32.self, name: "candidate priority", line: line)
        let port = try number(parts[5], UInt16.self, name: "candidate port", line: line)
        guard isToken(parts[7]) else { throw malformed("candidate", "type must be a token, got \(quoted(parts[7]))", line) }
        var index = 8
        var relatedAddress: String?
        var relatedPort: UInt16?
        if index + 1 < parts.count, parts[index] == "raddr" {
            relatedAddress = String(parts[index + 1])
            index += 2
        }
        if index + 1 < parts.count, parts[index] == "rport" {
            relatedPort = try number(parts[index + 1], UInt16.self, name: "candidate rport", line: line)
            index += 2
        }
        guard (parts.count - index) % 2 == 0 else {
            throw malformed("candidate", "extension \(quoted(parts[parts.count - 1])) has no value (RFC 8839 §5.1)", line)
        }
        var extensions: [SDPCandidateExtension] = []
        extensions.reserveCapacity((parts.count - index) / 2)
        while index < parts.count {
            extensions.append(SDPCandidateExtension(name: String(parts[index]), value: String(parts[index + 1])))
            index += 2
        }
        return SDPCandidate(foundation: String(parts[0]), component: component, transport: String(parts[2]),
                            priority: priority, address: String(parts[4]), port: port,
                            type: SDPCandidateType(rawValue: String(parts[7])), relatedAddress: relatedAddress,
                            relatedPort: relatedPort, extensions: extensions)
    }

    static func remoteCandidates(_ value: Substring, line: Int) throws(SDPError) -> [SDPRemoteCandidate] {
        let parts = spaceSeparated(value)
        guard !parts.isEmpty, parts.count % 3 == 0 else {
            throw malformed("remote-candidates", "needs triples of <component> <address> <port> (RFC 8839 §5.2), got \(quoted(value))", line)
        }
        var result: [SDPRemoteCandidate] = []
        var index = 0
        while index < parts.count {
            result.append(SDPRemoteCandidate(
                component: try number(parts[index], UInt16.self, name: "remote-candidates component", line: line),
                address: String(parts[index + 1]),
                port: try number(parts[index + 2], UInt16.self, name: "remote-candidates port", line: line)))
            index += 3
        }
        return result
    }

    static func fingerprint(_ value: Substring, line: Int) throws(SDPError) -> SDPFingerprint {
        let parts = spaceSeparated(value)
        guard parts.count == 2, isToken(parts[0]) else {
            throw malformed("fingerprint", "needs <hash function> <fingerprint> (RFC 8122 §5), got \(quoted(value))", line)
        }
        return SDPFingerprint(hashFunction: String(parts[0]), fingerprint: String(parts[1]))
    }

    static func crypto(_ value: Substring, line: Int) throws(SDPError) -> SDPCrypto {
        let parts = spaceSeparated(value, maxSplits: 3)
        guard parts.count >= 3, parts[0].utf8.count <= 9 else {
            throw malformed("crypto", "needs <tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 §9.1), got \(quoted(value))", line)
        }
        let tag = try number(parts[0], UInt32.self, name: "crypto tag", line: line)
        let session = parts.count == 4 ? trimmed(parts[3]) : ""
        return SDPCrypto(tag: tag, suite: String(parts[1]), keyParams: String(parts[2]),
                         sessionParams: session.isEmpty ? nil : String(session))
    }

    static func rtcp(_ value: Substring, line: Int) throws(SDPError) -> SDPRTCPAddress {
        let parts = spaceSeparated(value)
        guard parts.count == 1 || parts.count == 4 else {
            throw malformed("rtcp", "needs <port> [<nettype> <addrtype> <connection-address>] (RFC 3605 §2.1), got \(quoted(value))", line)
        }
        let port = try number(parts[0], UInt16.self, name: "rtcp port", line: line)
        let connection = parts.count == 4
            ? SDPConnection(networkType: String(parts[1]), addressType: String(parts[2]), address: String(parts[3])) : nil
        return SDPRTCPAddress(port: port, connection: connection)
    }

    static func sctpmap(_ value: Substring, line: Int) throws(SDPError) -> SDPSCTPMap {
        let parts = spaceSeparated(value)
        guard parts.count == 2 || parts.count == 3 else {
            throw malformed("sctpmap", "needs <port> <protocol> [<streams>] (draft-ietf-mmusic-sctp-sdp-05 §5.1), got \(quoted(value))", line)
        }
        let port = try number(parts[0], UInt16.self, name: "sctpmap port", line: line)
        let streams = parts.count == 3 ? try number(parts[2], UInt32.self, name: "sctpmap streams", line: line) : nil
        return SDPSCTPMap(port: port, protocolName: String(parts[1]), streams: streams)
    }

    static func msid(_ value: Substring, line: Int) throws(SDPError) -> SDPMediaStreamID {
        let parts = spaceSeparated(value)
        guard parts.count == 1 || parts.count == 2 else {
            throw malformed("msid", "needs <stream id> [<track id>] (RFC 8830 §2), got \(quoted(value))", line)
        }
        return SDPMediaStreamID(streamID: String(parts[0]), trackID: parts.count == 2 ? String(parts[1]) : nil)
    }

    static func msidSemantic(_ value: Substring, line: Int) throws(SDPError) -> SDPMsidSemantic {
        let parts = spaceSeparated(value)
        guard let semantic = parts.first else {
            throw malformed("msid-semantic", "needs <semantic> [<identifier> …], got an empty value", line)
        }
        return SDPMsidSemantic(semantic: String(semantic), identifiers: parts.dropFirst().map(String.init))
    }
}
