import DTLS
import RTP
import SRTP

extension FuzzChecker {
    /// Built-in starting inputs, so the harness works with no corpus directory (the CI smoke run uses only these).
    public func seeds() -> [[UInt8]] {
        switch target {
        case .xml: Self.xmlSeeds.map { Array($0.utf8) }
        case .jid: Self.jidSeeds.map { Array($0.utf8) }
        case .sdp: Self.sdpSeeds.map { Array($0.utf8) }
        case .jingle: Self.jingleSeeds.map { Array($0.utf8) }
        case .rtp: Self.rtpSeeds()
        case .datagram: datagramSeeds()
        case .filename: Self.fileNameSeeds.map { Array($0.utf8) }
        case .sip: Self.sipSeeds.map { Array($0.replacing("\n", with: "\r\n").utf8) }
        case .peerstream: Self.peerStreamSeeds()
        }
    }

    /// Tokens the mutator inserts: the syntax that steers each parser into its less travelled paths.
    public var dictionary: [[UInt8]] {
        let words: [String]
        switch target {
        case .xml, .jingle:
            words = ["<", ">", "</", "/>", "=", "'", "\"", "&amp;", "&lt;", "&#0;", "&#x10FFFF;", "&#13;", "&#xD800;", "<![CDATA[", "]]>",
                     "<!--", "-->", "<?xml version='1.0'?>", "<?xml version='1.0' encoding='ISO-8859-1'?>", "<!DOCTYPE x>",
                     "<!ENTITY a 'b'>", "&a;", "xmlns='", "xmlns:p='", "p:", "xml:lang='", "<stream:stream ", "</stream:stream>",
                     "urn:xmpp:jingle:1", "urn:xmpp:jingle:apps:rtp:1", "urn:xmpp:jingle:transports:ice-udp:1",
                     "urn:xmpp:jingle:apps:dtls:0", "urn:xmpp:jingle:apps:file-transfer:5", "jabber:client", "action='", "sid='",
                     "creator='", "name='", "senders='", "session-initiate", "session-accept", "transport-info", "content-add",
                     "session-info", "session-terminate", "<content ", "<description ", "<transport ", "<candidate ",
                     "<payload-type ", "<parameter ", "<reason>", "<success/>", "<fingerprint ", "<group ", "<ringing ",
                     "from='", "to='", "type='set'", "type='result'", "id='", "initiator='", "\u{FEFF}", "\u{0}", "\u{85}", "\u{2028}"]
        case .jid:
            words = ["@", "/", ".", "[", "]", "::1", "\u{FF21}", "\u{130}", "\u{1E9E}", "\u{200D}", "\u{0301}", "\u{00A0}", "\u{3000}",
                     "\u{FFFD}", "\u{E000}", "\u{1F600}", "xn--", "-", "_", ":", "\u{0}", String(repeating: "a", count: 63),
                     String(repeating: "b", count: 1023), String(repeating: "é", count: 512)]
        case .sdp:
            words = ["\r\n", "\n", "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "c=IN IP4 ", "c=IN IP6 ::1", "m=audio ", "m=video ",
                     "m=application ", " UDP/TLS/RTP/SAVPF ", " RTP/AVP ", "a=rtpmap:", "a=fmtp:", "a=rtcp-fb:", "a=extmap:",
                     "a=candidate:", " typ host", " typ srflx raddr ", " rport ", "a=ssrc:", "a=ssrc-group:FID ", "a=group:BUNDLE ",
                     "a=mid:", "a=msid:", "a=fingerprint:sha-256 ", "a=setup:actpass", "a=ice-ufrag:", "a=ice-pwd:", "a=crypto:",
                     " AES_CM_128_HMAC_SHA1_80 inline:", "a=rtcp:", "a=sendrecv", "a=inactive", "a=rtcp-mux", "b=AS:", "b=TIAS:",
                     "k=clear:", "r=", "z=", "i=", "u=", "e=", "p=", "a=sctp-port:", "a=max-message-size:", "/", ";", ":", "=", " "]
        case .filename:
            words = ["/", "\\", "..", ".", " ", "C:", "\u{0}", "\u{202E}", "\u{200B}", "\u{301}", "\u{1F600}", "\u{FEFF}", "\u{85}",
                     "\u{2028}", ".txt", ".tar.gz", String(repeating: "a", count: 70), String(repeating: "\u{301}", count: 40)]
        case .sip:
            words = ["\r\n", "\r\n ", ":", ";", ",", "=", "\"", "<", ">", "@", "SIP/2.0", "SIP/2.0/UDP ", "SIP/2.0/TCP ", "INVITE ",
                     "ACK ", "BYE ", "CANCEL ", "OPTIONS ", "INFO ", "sip:", "sips:", "tel:", ";branch=z9hG4bK", ";tag=", ";lr",
                     ";rport", ";received=", "Via: ", "v: ", "From: ", "f: ", "To: ", "t: ", "Call-ID: ", "i: ", "CSeq: ",
                     "Contact: ", "m: ", "Content-Length: ", "l: ", "Content-Type: ", "c: ", "Max-Forwards: ", "Route: ",
                     "Record-Route: ", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"", "Authorization: Digest ",
                     "application/sdp", "4294967296", "-1", "0", "99999999999999999999", "\u{0}", "\u{FEFF}", "%00", "%"]
        case .rtp, .datagram, .peerstream:
            words = []
        }
        return words.map { Array($0.utf8) }
    }

    static let xmlSeeds = [
        """
        <?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
        to='example.com' version='1.0'><message from='a@example.com/r' to='b@example.com' type='chat' id='m1'>\
        <body xml:lang='en'>Hello &amp; &lt;welcome&gt; &#x263A;</body><x xmlns='urn:x' xmlns:p='urn:p' p:a='1'/></message>\
        <iq type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq></stream:stream>
        """,
        """
        <stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><presence>\
        <status>  spaced\ttext\r\nline  </status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>\
        </presence><message><body><![CDATA[<not a tag>]]></body></message>
        """,
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><a><b><c><d>deep</d></c></b></a>",
    ]

    static let sipSeeds = [
        """
        INVITE sip:bob@127.0.0.1;transport=udp SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK-1
        Max-Forwards: 70
        From: "Alice" <sip:alice@127.0.0.1>;tag=a1
        To: <sip:bob@127.0.0.1>
        Call-ID: c1@127.0.0.1
        CSeq: 1 INVITE
        Contact: <sip:alice@127.0.0.1:5070>
        Content-Type: application/sdp
        Content-Length: 127

        v=0
        o=- 1 1 IN IP4 127.0.0.1
        s=-
        c=IN IP4 127.0.0.1
        t=0 0
        m=audio 4000 RTP/AVP 0 101
        a=rtpmap:101 telephone-event/8000

        """,
        """
        SIP/2.0 180 Ringing
        v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1, SIP/2.0/TCP 10.0.0.1
         ;branch=z9hG4bK-0
        f: <sip:alice@127.0.0.1>;tag=a1
        t: <sip:bob@127.0.0.1>;tag=b1
        i: c1@127.0.0.1
        CSeq: 1 INVITE
        Record-Route: <sip:proxy@127.0.0.1;lr>, <sip:p2@127.0.0.1;lr>
        l: 0

        """,
        """
        OPTIONS sip:gw@127.0.0.1 SIP/2.0
        Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKo
        From: <sip:p@127.0.0.1>;tag=x
        To: <sip:gw@127.0.0.1>
        Call-ID: o1
        CSeq: 7 OPTIONS
        Content-Length: 0

        BYE sip:bob@127.0.0.1 SIP/2.0
        Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKb
        From: <sip:p@127.0.0.1>;tag=x
        To: <sip:gw@127.0.0.1>;tag=y
        Call-ID: o1
        CSeq: 8 BYE
        Content-Length: 0

        """,
        """
        SIP/2.0 401 Unauthorized
        Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr
        From: <sip:a@127.0.0.1>;tag=1
        To: <sip:b@127.0.0.1>;tag=2
        Call-ID: auth
        CSeq: 2 REGISTER
        WWW-Authenticate: Digest realm="example", nonce="abc", qop="auth", algorithm=MD5
        Content-Length: 0

        """,
    ]

    static let fileNameSeeds = [
        "report.pdf", "../../etc/passwd", "C:\\Windows\\system.ini", ".hidden", "name with spaces .txt", "gnp.\u{202E}exe",
        String(repeating: "long", count: 30) + ".tar.gz", "a\u{301}\u{302}.txt", "\u{1F469}\u{200D}\u{1F4BB}.png", " . ",
    ]

    static let jidSeeds = [
        "juliet@capulet.lit/balcony", "capulet.lit", "romeo@montague.lit", "[::1]", "[2001:db8::1]/res",
        "Ünïcode@Bücher.Example/Ré sø", "a@b/c/d@e", "user@example.com.", "\u{FF21}\u{FF22}@example.com", "x@192.0.2.1/\u{00A0}",
    ]

    static let sdpSeeds = [
        """
        v=0\r
        o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
        s=-\r
        t=0 0\r
        a=group:BUNDLE 0 1\r
        a=msid-semantic: WMS stream\r
        m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r
        c=IN IP4 0.0.0.0\r
        a=rtcp:9 IN IP4 0.0.0.0\r
        a=candidate:842163049 1 udp 1677729535 198.51.100.7 59451 typ srflx raddr 10.0.0.2 rport 59451 generation 0\r
        a=candidate:1 1 UDP 2130706431 10.0.0.2 54400 typ host\r
        a=ice-ufrag:EsAw\r
        a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r
        a=ice-options:trickle\r
        a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F\r
        a=setup:actpass\r
        a=mid:0\r
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
        a=sendrecv\r
        a=rtcp-mux\r
        a=rtpmap:111 opus/48000/2\r
        a=rtcp-fb:111 transport-cc\r
        a=fmtp:111 minptime=10;useinbandfec=1\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:126 telephone-event/8000\r
        a=fmtp:126 0-15\r
        a=ssrc:3570614608 cname:4TOk42mSjXCkVIa6\r
        m=video 9 UDP/TLS/RTP/SAVPF 96 97\r
        c=IN IP4 0.0.0.0\r
        b=AS:2000\r
        a=mid:1\r
        a=recvonly\r
        a=rtpmap:96 VP8/90000\r
        a=rtcp-fb:96 nack pli\r
        a=rtpmap:97 rtx/90000\r
        a=fmtp:97 apt=96\r
        a=ssrc-group:FID 1 2\r

        """,
        """
        v=0
        o=alice 2890844526 2890844526 IN IP4 192.0.2.10
        s=Call
        i=info
        u=http://example.com/
        e=alice@example.com
        p=+1 555 0100
        c=IN IP4 192.0.2.10/127/2
        b=CT:128
        t=2873397496 2873404696
        r=7d 1h 0 25h
        z=2882844526 -1h 2898848070 0
        k=prompt
        a=recvonly
        m=audio 49170/2 RTP/SAVP 0 101
        a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32
        a=rtpmap:101 telephone-event/8000
        a=ptime:20
        m=application 5000 UDP/DTLS/SCTP webrtc-datachannel
        a=sctp-port:5000
        a=max-message-size:262144
        """,
    ]

    static let jingleSeeds = [
        """
        <iq from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='ji1' type='set'>\
        <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
        <content creator='initiator' name='voice' senders='both'>\
        <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio' ssrc='2021'>\
        <payload-type id='96' name='speex' clockrate='16000'><parameter name='vbr' value='on'/></payload-type>\
        <payload-type id='0' name='PCMU'/><rtcp-mux/>\
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:toffset'/>\
        <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>\
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2021'><parameter name='cname' value='x'/></source>\
        </description>\
        <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>\
        02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2</fingerprint>\
        <candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' \
        priority='2130706431' protocol='udp' type='host'/>\
        <candidate component='1' foundation='2' generation='0' id='y3s2b30v3r' ip='192.0.2.3' network='1' port='45664' \
        priority='1694498815' protocol='udp' rel-addr='10.0.1.1' rel-port='8998' type='srflx'/>\
        </transport></content>\
        <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='voice'/></group>\
        </jingle></iq>
        """,
        """
        <iq from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='ft1' type='set'>\
        <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='851ba2'>\
        <content creator='initiator' name='a-file-offer' senders='initiator'>\
        <description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><date>1969-07-21T02:56:15Z</date>\
        <desc>This is a test.</desc><media-type>text/plain</media-type><name>test.txt</name><range/><size>6144</size>\
        <hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>w0mcJylzCn+AfvuGdqkty2+KP48=</hash></file></description>\
        <transport xmlns='urn:xmpp:jingle:transports:s5b:1' mode='tcp' sid='vj3hs98y'>\
        <candidate cid='hft54dqy' host='192.168.4.1' jid='romeo@montague.lit/orchard' port='5086' priority='8257636' type='direct'/>\
        </transport></content></jingle></iq>
        """,
        """
        <iq from='juliet@capulet.lit/balcony' to='romeo@montague.lit/orchard' id='t1' type='set'>\
        <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'>\
        <reason><success/><text>Sorry, gotta go!</text></reason></jingle></iq>
        """,
        """
        <jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='a73sjjvkla37jfea'><ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>
        """,
        """
        <jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s1'><content creator='initiator' name='v'>\
        <transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/></content></jingle>
        """,
    ]

    static func rtpSeeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        var header = RTPHeader(marker: true, payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 0x1234_5678, csrcs: [1, 2])
        if let bytes = try? RTPPacket(header: header, payload: Array(repeating: 0xFF, count: 160), paddingLength: 4).serialized() {
            seeds.append(bytes)
        }
        header.csrcs = []
        if let bytes = try? RTPPacket(header: header, payload: [1, 2, 3]).serialized() { seeds.append(bytes) }
        // An RFC 8285 one-byte header extension (profile 0xBEDE) with two elements.
        seeds.append([0x90, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x21, 0xBB, 0xCC, 0xDD])
        // RFC 8285 two-byte form (0x1000) and a generic RFC 3550 extension.
        seeds.append([0x90, 0x08, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0x00, 0x00, 0x01, 0x01, 0x02, 0xAB, 0xCD, 0x55])
        seeds.append([0x90, 0x08, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2, 0x12, 0x34, 0x00, 0x01, 1, 2, 3, 4])
        // RTCP: SR with one report block, then SDES (CNAME), then BYE with a reason.
        let sr: [UInt8] = [0x81, 200, 0, 12, 0, 0, 0, 1, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x20, 0, 0, 0, 10, 0, 0, 0x0F, 0xA0,
                           0, 0, 0, 2, 0x01, 0, 0, 5, 0, 0, 0x10, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]
        let sdes: [UInt8] = [0x81, 202, 0, 3, 0, 0, 0, 1, 1, 4, 0x61, 0x62, 0x63, 0x64, 0, 0]
        let bye: [UInt8] = [0x81, 203, 0, 3, 0, 0, 0, 1, 5, 0x62, 0x79, 0x65, 0x21, 0, 0, 0]
        seeds.append(sr + sdes + bye)
        seeds.append([0x81, 201, 0, 1, 0, 0, 0, 1] + [0xA1, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4])
        return seeds
    }

    /// A real ClientHello, the server's answer flight and an SRTP packet under the fuzz key, so that mutations
    /// start from inputs the DTLS and SRTP code would accept.
    func datagramSeeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = [[0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + Array(repeating: 7, count: 12)]
        if let certificate,
           let client = try? DTLSConnection(role: .client, certificate: certificate),
           let server = try? DTLSConnection(role: .server, certificate: certificate),
           let hello = try? client.start(now: .now) {
            seeds.append(Self.frame(hello))
            var answer: [[UInt8]] = []
            for datagram in hello { answer += (try? server.receive(datagram, now: .now).datagrams) ?? [] }
            seeds.append(Self.frame(hello + answer))
            var finish: [[UInt8]] = []
            for datagram in answer { finish += (try? client.receive(datagram, now: .now).datagrams) ?? [] }
            seeds.append(Self.frame(finish))
        }
        if let outbound = try? SRTPSession(profile: .aesCM128HmacSHA1_80, key: srtpKey, salt: srtpSalt, direction: .outbound) {
            let rtp = (try? RTPPacket(header: RTPHeader(marker: false, payloadType: 0, sequenceNumber: 7, timestamp: 1, ssrc: 9),
                                      payload: Array(repeating: 0xD5, count: 20)).serialized()) ?? []
            if let protected = try? outbound.protectRTP(rtp) { seeds.append(Self.frame([protected, protected])) }
            let rr: [UInt8] = [0x80, 201, 0, 1, 0, 0, 0, 9]
            if let protected = try? outbound.protectRTCP(rr) { seeds.append(Self.frame([protected])) }
        }
        return seeds
    }
}
