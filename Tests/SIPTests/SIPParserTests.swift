import Testing
@testable import SIP

/// Messages in the spirit of RFC 4475 (written for these tests, not copied).
enum ParserFixtures {
    static let sdp = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"

    /// Compact forms, mixed case names, folding, whitespace around every separator, unknown headers,
    /// a Via list split over two headers, escaped quotes in a display name.
    static var wideSpread: [UInt8] {
        crlf(#"""
        INVITE sip:carol@chair.example.org;oddparam SIP/2.0
        TO :
         sip:carol@chair.example.org ;   tag    = 88aa77
        from   : "A \"Quoted\" Caller"       <sip:alice@example.com>
          ;
          tag = f00d
        MaX-fOrWaRdS: 0069
        i: wide.spread@192.0.2.1
        l   : \#(sdp.utf8.count)
        cseq: 0009
          INVITE
        Via  : SIP  /   2.0
         /UDP
            192.0.2.2;rport;branch=z9hG4bKtop
        s :
        X-Unknown-Header:   first part
         second part
        X-Odd: ;;,,;;,;
        c: application/sdp
        Route:
         <sip:proxy.example.org;lr;unknown=value;flag>
        v:  SIP  / 2.0  / TCP     relay.example.org   ;
          branch  =   z9hG4bKmid  ,
         SIP  /    2.0   / UDP  192.0.2.111   ; branch=
         z9hG4bKlow
        m:"Display \"\"" <sip:alice@192.0.2.1> ; newparam =
              newvalue ;
          secondparam ; q = 0.33


        """#) + Array(sdp.utf8)
    }
}

@Suite("SIP parser")
struct SIPParserTests {
    @Test func wideSpreadMessageParses() throws {
        let message = try SIPParser.parse(datagram: ParserFixtures.wideSpread)
        #expect(message.method == .invite)
        #expect(message.requestURI?.user == "carol")
        #expect(message.requestURI?.parameters.contains("oddparam") == true)
        #expect(try message.to.tag == "88aa77")
        #expect(try message.to.uri.host == "chair.example.org")
        #expect(try message.from.displayName == #"A "Quoted" Caller"#)
        #expect(try message.from.tag == "f00d")
        #expect(try message.maxForwards == 69)
        #expect(try message.callID == "wide.spread@192.0.2.1")
        #expect(try message.cseq == SIPCSeq(9, .invite))
        let vias = try message.via
        #expect(vias.map(\.host) == ["192.0.2.2", "relay.example.org", "192.0.2.111"])
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias.map(\.branch) == ["z9hG4bKtop", "z9hG4bKmid", "z9hG4bKlow"])
        #expect(vias[0].rport == .some(nil))
        #expect(message.headers["Subject"] == "")
        #expect(message.headers["x-unknown-header"] == "first part second part")
        #expect(message.headers["X-Odd"] == ";;,,;;,;")
        #expect(message.contentType == "application/sdp")
        let routes = try message.routes
        #expect(routes.count == 1)
        #expect(routes[0].uri.parameters.contains("lr"))
        #expect(routes[0].uri.parameters["unknown"] == "value")
        let contact = try #require(try message.contacts.first)
        #expect(contact.displayName == #"Display """#)
        #expect(contact.parameters["q"] == "0.33")
        #expect(contact.parameters["newparam"] == "newvalue")
        #expect(contact.parameters.contains("secondparam"))
        #expect(message.bodyText == ParserFixtures.sdp)
    }

    @Test(arguments: [
        ("i", "Call-ID"), ("m", "Contact"), ("e", "Content-Encoding"), ("l", "Content-Length"), ("c", "Content-Type"),
        ("f", "From"), ("t", "To"), ("v", "Via"), ("k", "Supported"), ("s", "Subject"), ("o", "Event"), ("u", "Allow-Events"),
        ("r", "Refer-To"), ("b", "Referred-By"), ("x", "Session-Expires"), ("y", "Identity"), ("CALL-ID", "Call-ID"),
        ("cseq", "CSeq"), ("www-authenticate", "WWW-Authenticate"), ("X-Custom", "X-Custom"),
    ])
    func compactAndCaseInsensitiveNames(name: String, canonical: String) {
        #expect(SIPHeaders.canonicalName(name) == canonical)
        var headers = SIPHeaders()
        headers.add(name, "value")
        #expect(headers[canonical] == "value")
        #expect(headers[canonical.uppercased()] == "value")
    }

    @Test(arguments: [
        ("sip:sips%3Auser%40example.com@example.net", "sips:user@example.com" as String?, "example.net", nil as Int?),
        ("sip:user;par=u%40example.net@example.com", "user;par=u@example.net", "example.com", nil),
        ("sips:%61lice@atlanta.example.com:5061;transport=tcp", "alice", "atlanta.example.com", 5061),
        ("sip:[2001:db8::10]:5070;maddr=[2001:db8::20]", nil, "2001:db8::10", 5070),
        ("SIP:bob:secret@192.0.2.4", "bob", "192.0.2.4", nil),
    ])
    func escapedAndOddURIs(text: String, user: String?, host: String, port: Int?) throws {
        let uri = try SIPURI(text)
        #expect(uri.user == user)
        #expect(uri.host == host)
        #expect(uri.port == port)
        // Escaping on output and parsing again gives the same URI.
        #expect(try SIPURI(uri.description) == uri)
    }

    @Test func uriPartsAndHeaders() throws {
        let uri = try SIPURI("sip:alice:pw@example.com:5070;transport=TCP;lr?subject=project%20x&priority=urgent")
        #expect(uri.scheme == .sip)
        #expect(uri.password == "pw")
        #expect(uri.transportParameter == "tcp")
        #expect(uri.parameters.contains("lr"))
        #expect(uri.headers == [SIPParameter("subject", "project x"), SIPParameter("priority", "urgent")])
    }

    @Test(arguments: ["tel:+1-201-555-0123", "http://example.com/"])
    func nonSIPSchemesAreUnsupported(text: String) {
        #expect(throws: SIPParseError(.unsupportedURIScheme, reason: "Unsupported URI Scheme")) { try SIPURI(text) }
    }

    @Test(arguments: ["sip:", "sip:user@", "sip:a b@example.com", "sip:host:99999", "sip:%zz@host", "nocolon"])
    func badURIs(text: String) {
        #expect(throws: SIPParseError.self) { try SIPURI(text) }
    }

    @Test func responseWithViaListAndLeadingCRLF() throws {
        let bytes = crlf("""


        SIP/2.0 180 Ringing Now
        v: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKa;received=198.51.100.1;rport=6000, SIP/2.0/TCP 192.0.2.9;branch=z9hG4bKb
        f: <sip:alice@example.com>;tag=1
        t: <sip:bob@example.com>;tag=2
        i: abc
        CSeq: 1 INVITE
        Content-Length: 0


        """)
        let message = try SIPParser.parse(datagram: bytes)
        #expect(message.statusCode == 180)
        #expect(message.reasonPhrase == "Ringing Now")
        let vias = try message.via
        #expect(vias.count == 2)
        #expect(vias[0].received == "198.51.100.1")
        #expect(vias[0].rport == .some(6000))
        #expect(vias[0].responseTarget == ("198.51.100.1", 6000))
        #expect(vias[1].responseTarget == ("192.0.2.9", 5060))
    }

    @Test func bareLFLineEndsAreAccepted() throws {
        let text = "OPTIONS sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:bob@example.com>\nCall-ID: x\nCSeq: 1 OPTIONS\n\n"
        let message = try SIPParser.parse(datagram: Array(text.utf8))
        #expect(message.method == .options)
        #expect(message.body.isEmpty)
    }

    @Test func datagramBodyWithoutContentLengthIsTheRest() throws {
        var bytes = crlf("""
        MESSAGE sip:bob@example.com SIP/2.0
        Via: SIP/2.0/UDP h;branch=z9hG4bK1
        From: <sip:a@b>;tag=1
        To: <sip:bob@example.com>
        Call-ID: x
        CSeq: 1 MESSAGE


        """)
        bytes += Array("hello there".utf8)
        #expect(try SIPParser.parse(datagram: bytes).bodyText == "hello there")
    }

    @Test func datagramBytesPastContentLengthAreDropped() throws {
        let bytes = crlf("""
        MESSAGE sip:bob@example.com SIP/2.0
        Via: SIP/2.0/UDP h;branch=z9hG4bK1
        From: <sip:a@b>;tag=1
        To: <sip:bob@example.com>
        Call-ID: x
        CSeq: 1 MESSAGE
        Content-Length: 5

        hello there
        """)
        #expect(try SIPParser.parse(datagram: bytes).bodyText == "hello")
    }

    static let base = """
    INVITE sip:bob@example.com SIP/2.0
    Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1
    From: <sip:alice@example.com>;tag=1
    To: <sip:bob@example.com>
    Call-ID: abc@192.0.2.1
    CSeq: 1 INVITE
    Max-Forwards: 70

    """

    static func mutate(_ transform: (String) -> String) -> [UInt8] { crlf(transform(base) + "\n") }

    static let badCases: [(String, [UInt8], SIPParseError.Kind)] = [
        ("missing Call-ID", mutate { $0.replacingOccurrences(of: "Call-ID: abc@192.0.2.1\n", with: "") }, .missingHeader("Call-ID")),
        ("missing Via", mutate { $0.replacingOccurrences(of: "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n", with: "") }, .missingHeader("Via")),
        ("bad Content-Length", mutate { $0 + "Content-Length: 12a\n" }, .invalidContentLength),
        ("negative Content-Length", mutate { $0 + "Content-Length: -1\n" }, .invalidContentLength),
        ("Content-Length too large", mutate { $0 + "Content-Length: 5000\n" }, .contentLengthMismatch(declared: 5000, available: 0)),
        ("two Call-IDs", mutate { $0 + "i: other\n" }, .duplicateHeader("Call-ID")),
        ("CSeq method mismatch", mutate { $0.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE") }, .cseqMethodMismatch),
        ("bad CSeq", mutate { $0.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: one INVITE") }, .invalidHeaderValue("CSeq")),
        ("CSeq too big", mutate { $0.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 4294967296 INVITE") }, .invalidHeaderValue("CSeq")),
        ("bad Max-Forwards", mutate { $0.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 1000") }, .invalidHeaderValue("Max-Forwards")),
        ("bad Via", mutate { $0.replacingOccurrences(of: "SIP/2.0/UDP 192.0.2.1", with: "SIP/2.0 192.0.2.1") }, .invalidHeaderValue("Via")),
        ("bad From", mutate { $0.replacingOccurrences(of: "From: <sip:alice@example.com>", with: "From: <sip:alice@example.com") }, .invalidHeaderValue("From")),
        ("version 7", mutate { $0.replacingOccurrences(of: "bob@example.com SIP/2.0", with: "bob@example.com SIP/7.0") }, .unsupportedVersion),
        ("two spaces in request line", mutate { $0.replacingOccurrences(of: "INVITE sip", with: "INVITE  sip") }, .malformedStartLine),
        ("tel request URI", mutate { $0.replacingOccurrences(of: "INVITE sip:bob@example.com", with: "INVITE tel:+12015550123") }, .unsupportedURIScheme),
        ("header without colon", mutate { $0 + "NoColonHere\n" }, .malformedHeader),
        ("continuation first", mutate { $0.replacingOccurrences(of: "SIP/2.0\nVia", with: "SIP/2.0\n folded\nVia") }, .malformedHeader),
        ("garbage", [0x00, 0xFF, 0x13, 0x37, 0x0D, 0x0A, 0x0D, 0x0A], .malformedStartLine),
        ("status 999", crlf("SIP/2.0 999 Nope\n\n"), .malformedStartLine),
        ("empty", [13, 10, 13, 10], .malformedStartLine),
    ]

    @Test(arguments: badCases)
    func badMessagesGiveTypedErrors(name: String, bytes: [UInt8], kind: SIPParseError.Kind) {
        do {
            let message = try SIPParser.parse(datagram: bytes)
            Issue.record("\(name) parsed: \(message)")
        } catch {
            #expect(error.kind == kind, "\(name): \(error)")
            #expect(!error.reason.isEmpty)
        }
    }

    @Test func oneMebibyteOfHeadersIsRefused() {
        let big = Self.mutate { $0 + "X-Big: " + String(repeating: "a", count: 1024 * 1024) + "\n" }
        #expect(throws: SIPParseError(.headerSectionTooLarge, reason: "Header section too large")) { try SIPParser.parse(datagram: big) }
    }

    @Test func tooManyHeadersAreRefused() {
        let many = Self.mutate { $0 + String(repeating: "X-H: 1\n", count: 300) }
        do {
            _ = try SIPParser.parse(datagram: many)
            Issue.record("parsed")
        } catch {
            #expect(error.kind == .tooManyHeaders)
        }
    }

    @Test func bodyOverTheLimitIsRefused() {
        let bytes = Self.mutate { $0 + "Content-Length: 20\n" } + Array(repeating: UInt8(ascii: "x"), count: 20)
        do {
            _ = try SIPParser.parse(datagram: bytes, limits: SIPParserLimits(maxBodyBytes: 10))
            Issue.record("parsed")
        } catch {
            #expect(error.kind == .bodyTooLarge)
            #expect(error.responseStatus == 513)
        }
    }

    /// §8.2.6.2: a 400 goes back when Via, From, To, Call-ID and CSeq were readable, else nothing.
    @Test func badRequestIsBuiltOnlyWhenAddressable() throws {
        do {
            _ = try SIPParser.parse(datagram: Self.mutate { $0 + "Content-Length: x\n" })
            Issue.record("parsed")
        } catch {
            let response = try #require(SIPMessage.badRequest(for: error))
            #expect(response.statusCode == 400)
            #expect(response.reasonPhrase == "Bad Content-Length")
            #expect(try response.cseq == SIPCSeq(1, .invite))
            #expect(try response.topVia?.branch == "z9hG4bK1")
        }
        do {
            _ = try SIPParser.parse(datagram: Self.mutate { $0.replacingOccurrences(of: "Call-ID: abc@192.0.2.1\n", with: "") })
            Issue.record("parsed")
        } catch {
            #expect(SIPMessage.badRequest(for: error) == nil)
        }
    }

    @Test func serializerRoundTrip() throws {
        let message = try SIPParser.parse(datagram: ParserFixtures.wideSpread)
        let bytes = message.serialized()
        let again = try SIPParser.parse(datagram: bytes)
        // Content-Length is rewritten last by the serializer; every other field keeps its place.
        #expect(again.startLine == message.startLine)
        #expect(again.body == message.body)
        #expect(again.headers.fields.filter { $0.name != "Content-Length" } == message.headers.fields.filter { $0.name != "Content-Length" })
        #expect(again.headers["Content-Length"] == "\(message.body.count)")
        #expect(again.serialized() == bytes)
    }

    @Test func serializerWritesExactWireForm() throws {
        var headers = SIPHeaders()
        headers.add("v", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx")
        headers.add("f", "<sip:a@127.0.0.1>;tag=1")
        headers.add("t", "<sip:b@127.0.0.1>")
        headers.add("i", "c1")
        headers.add("CSeq", "1 INFO")
        headers.add("Content-Length", "999")
        let message = SIPMessage.request(.info, uri: try SIPURI("sip:b@127.0.0.1"), headers: headers, body: Array("abc".utf8))
        let expected = "INFO sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"
            + "To: <sip:b@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INFO\r\nContent-Length: 3\r\n\r\nabc"
        #expect(String(decoding: message.serialized(), as: UTF8.self) == expected)
    }

    @Test func headerEditingKeepsOrder() {
        var headers = SIPHeaders([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2"), ("From", "x")])
        headers.prepend("Via", "SIP/2.0/UDP c;branch=z9hG4bK0")
        #expect(headers.values("Via").count == 3)
        headers.removeFirstValue("Via")
        headers.removeFirstValue("Via")
        #expect(headers.values("Via") == ["SIP/2.0/UDP b;branch=z9hG4bK2"])
        headers.set("from", "y")
        #expect(headers.fieldValues("From") == ["y"])
    }
}

@Suite("SIP stream framing")
struct SIPStreamFramerTests {
    static let one = crlf("""
    OPTIONS sip:bob@127.0.0.1 SIP/2.0
    Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1
    From: <sip:a@127.0.0.1>;tag=1
    To: <sip:bob@127.0.0.1>
    Call-ID: one
    CSeq: 1 OPTIONS
    Content-Length: 4


    """) + Array("body".utf8)

    static let two = crlf("""
    SIP/2.0 200 OK
    Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1
    From: <sip:a@127.0.0.1>;tag=1
    To: <sip:bob@127.0.0.1>;tag=2
    Call-ID: two
    CSeq: 1 OPTIONS
    Content-Length: 0


    """)

    @Test func severalMessagesInOneRead() throws {
        var framer = SIPStreamFramer()
        framer.append(Self.one + [13, 10, 13, 10] + Self.two + Self.one)
        #expect(try framer.next()?.bodyText == "body")
        #expect(try framer.next()?.statusCode == 200)
        #expect(try framer.next().map { try $0.callID } == "one")
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    /// RFC 5626 §4.4.1: CRLF CRLF between messages is a ping, even split over reads; a lone CRLF (a pong, or a
    /// stray line end after a body) is not, and a message resets the count; nothing of it reaches the messages.
    @Test func keepAlivePingsAreCounted() throws {
        var framer = SIPStreamFramer()
        framer.append([13, 10, 13, 10])
        #expect(try framer.next() == nil)
        #expect(framer.takePings() == 1)
        #expect(framer.takePings() == 0, "taken once")
        framer.append([13, 10])
        #expect(try framer.next() == nil)
        #expect(framer.takePings() == 0, "a pong is not a ping")
        framer.append([13, 10])
        #expect(try framer.next() == nil)
        #expect(framer.takePings() == 1, "a stream has no boundaries: this CRLF and the one before are CRLF CRLF")
        framer.append(Self.one + [13, 10] + Self.two + [13, 10, 13, 10, 13, 10, 13, 10] + Self.one)
        #expect(try framer.next()?.bodyText == "body")
        #expect(try framer.next()?.statusCode == 200)
        #expect(try framer.next()?.bodyText == "body")
        #expect(framer.takePings() == 2)
        for byte: UInt8 in [13, 10, 13] { framer.append([byte]); _ = try framer.next() }
        #expect(framer.takePings() == 0)
        framer.append([10]); _ = try framer.next()
        #expect(framer.takePings() == 1, "a ping split over reads")
    }

    @Test func messageDripFedOneByteAtATime() throws {
        var framer = SIPStreamFramer()
        var messages: [SIPMessage] = []
        for byte in Self.one + Self.two {
            framer.append([byte])
            while let message = try framer.next() { messages.append(message) }
        }
        #expect(messages.count == 2)
        #expect(messages[0] == (try SIPParser.parse(datagram: Self.one)))
        #expect(messages[1].statusCode == 200)
    }

    @Test func streamNeedsContentLength() {
        var framer = SIPStreamFramer()
        framer.append(crlf("OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: c\nCSeq: 1 OPTIONS\n\n"))
        do {
            _ = try framer.next()
            Issue.record("framed")
        } catch {
            #expect(error.kind == .missingContentLength)
            #expect(SIPMessage.badRequest(for: error)?.statusCode == 400)
        }
    }

    @Test func unterminatedHeadersHitTheLimit() {
        var framer = SIPStreamFramer(limits: SIPParserLimits(maxHeaderBytes: 1024))
        framer.append(Array("OPTIONS sip:b@h SIP/2.0\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 2000))
        #expect(throws: SIPParseError(.headerSectionTooLarge, reason: "Header section too large")) { try framer.next() }
    }

    @Test func bodyLargerThanLimitIsRefusedBeforeBuffering() {
        var framer = SIPStreamFramer(limits: SIPParserLimits(maxBodyBytes: 1024 * 1024))
        framer.append(crlf("OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: c\nCSeq: 1 OPTIONS\nContent-Length: 2000000\n\n"))
        do {
            _ = try framer.next()
            Issue.record("framed")
        } catch {
            #expect(error.kind == .bodyTooLarge)
        }
    }
}
