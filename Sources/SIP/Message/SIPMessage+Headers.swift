/// Typed views of the headers (RFC 3261 §20). Each parses on access and throws `SIPParseError`.
extension SIPMessage {
    /// All Via values, top-most first (§8.1.1.7).
    public var via: [SIPVia] {
        get throws(SIPParseError) {
            var result: [SIPVia] = []
            for value in headers.values("Via") { result.append(try SIPVia(value)) }
            return result
        }
    }

    public var topVia: SIPVia? {
        get throws(SIPParseError) { try via.first }
    }

    public var from: SIPNameAddress {
        get throws(SIPParseError) { try SIPNameAddress(required("From"), header: "From") }
    }

    public var to: SIPNameAddress {
        get throws(SIPParseError) { try SIPNameAddress(required("To"), header: "To") }
    }

    public var callID: String {
        get throws(SIPParseError) { String(try required("Call-ID").trimmingLWS()) }
    }

    public var cseq: SIPCSeq {
        get throws(SIPParseError) { try SIPCSeq(required("CSeq")) }
    }

    /// Contact values; a `*` Contact (REGISTER only) is returned as an empty list.
    public var contacts: [SIPNameAddress] {
        get throws(SIPParseError) {
            var result: [SIPNameAddress] = []
            for value in headers.values("Contact") where value != "*" { result.append(try SIPNameAddress(value, header: "Contact")) }
            return result
        }
    }

    public var maxForwards: Int? {
        get throws(SIPParseError) {
            guard let value = headers["Max-Forwards"]?.trimmingLWS() else { return nil }
            // §20.22: 1*DIGIT (leading zeros allowed, RFC 4475 §3.1.1.1), at most 255 in practice.
            guard !value.isEmpty, value.count <= 10, value.allSatisfy(\.isASCIIDigit), let number = Int(value), number <= 255 else {
                throw SIPParseError(.invalidHeaderValue("Max-Forwards"), reason: "Bad Max-Forwards")
            }
            return number
        }
    }

    public var routes: [SIPNameAddress] {
        get throws(SIPParseError) { try headers.values("Route").map { (v) throws(SIPParseError) in try SIPNameAddress(v, header: "Route") } }
    }

    public var recordRoutes: [SIPNameAddress] {
        get throws(SIPParseError) { try headers.values("Record-Route").map { (v) throws(SIPParseError) in try SIPNameAddress(v, header: "Record-Route") } }
    }

    /// Media type of the body, lower-cased without parameters (e.g. `application/sdp`).
    public var contentType: String? {
        headers["Content-Type"].map { String($0.split(separator: ";").first?.trimmingLWS() ?? "").lowercased() }
    }

    /// Digest challenges in WWW-Authenticate (401) or Proxy-Authenticate (407), §22.
    public var authenticationChallenges: [SIPDigestChallenge] {
        get throws(SIPParseError) {
            var result: [SIPDigestChallenge] = []
            for name in ["WWW-Authenticate", "Proxy-Authenticate"] {
                for value in headers.fieldValues(name) {
                    result.append(try SIPDigestChallenge(value, isProxy: name == "Proxy-Authenticate"))
                }
            }
            return result
        }
    }

    /// Digest credentials in Authorization / Proxy-Authorization.
    public var authorizationCredentials: [SIPDigestCredentials] {
        get throws(SIPParseError) {
            var result: [SIPDigestCredentials] = []
            for name in ["Authorization", "Proxy-Authorization"] {
                for value in headers.fieldValues(name) { result.append(try SIPDigestCredentials(value, isProxy: name == "Proxy-Authorization")) }
            }
            return result
        }
    }

    private func required(_ name: String) throws(SIPParseError) -> String {
        guard let value = headers[name] else { throw SIPParseError(.missingHeader(name), reason: "Missing \(name)") }
        return value
    }
}
