import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// What a XEP example stanza is, once parsed.
enum ExampleKind: Equatable, CustomStringConvertible {
    case jingleIQ(JingleWireAction)
    case rtpDescription
    case jingleMessage(JingleMessage.Kind)
    case errorReply(JingleErrorCondition?)

    var description: String {
        switch self {
        case .jingleIQ(let a): "jingle \(a.rawValue)"
        case .rtpDescription: "rtp description"
        case .jingleMessage(let k): "jingle-message \(k.rawValue)"
        case .errorReply(let c): "error \(c?.rawValue ?? "-")"
        }
    }
}

enum ExampleOutcome: Error, Equatable {
    case notWellFormed
    case notJinglePayload
    case rejected(JingleParseError)
}

/// Parses an example into the model and back; returns the kind and the original/re-serialized elements.
func roundTrip(_ text: String) throws(ExampleOutcome) -> (ExampleKind, XMLElement, XMLElement) {
    let root: XMLElement
    do { root = try XMLElement(parsing: text) } catch { throw .notWellFormed }
    do {
        switch (root.name, root.namespace) {
        case ("iq", _):
            guard let iq = try? IQ(element: root) else { throw ExampleOutcome.notJinglePayload }
            if iq.type == .error, let error = iq.error, let original = root.child("error") {
                let again = StanzaError(element: error.element(namespace: root.namespace))
                return (.errorReply(JingleErrorCondition(error)), original, again.element(namespace: root.namespace))
            }
            guard let payload = iq.payload, payload.name == "jingle", payload.namespace == NS.jingle else { throw ExampleOutcome.notJinglePayload }
            let model = try JinglePayload(element: payload)
            let reparsed = try JinglePayload(element: try XMLElement(parsing: model.element().serialized()))
            return (.jingleIQ(model.action), payload, reparsed.element())
        case ("description", NS.jingleRTP):
            let model = try RTPDescription(element: root)
            let reparsed = try RTPDescription(element: try XMLElement(parsing: model.element().serialized()))
            return (.rtpDescription, root, reparsed.element())
        case ("message", _):
            guard let payload = root.elements.first(where: { $0.namespace == NS.jingleMessage }) else { throw ExampleOutcome.notJinglePayload }
            let model = try JingleMessage(element: payload)
            let reparsed = try JingleMessage(element: try XMLElement(parsing: model.element().serialized()))
            return (.jingleMessage(model.kind), payload, reparsed.element())
        default:
            throw ExampleOutcome.notJinglePayload
        }
    } catch let error as JingleParseError {
        throw .rejected(error)
    } catch let error as ExampleOutcome {
        throw error
    } catch {
        throw .notWellFormed
    }
}

/// Why an example does not round-trip. Every other example of the XEPs in INDEX.tsv must.
enum NotRoundTripping: Equatable {
    /// Not XML a parser can take as one element (the reason names why).
    case fragment(String)
    /// Well-formed, but nothing a Jingle codec handles.
    case notJingle(String)
    /// A Jingle payload that breaks a rule of the XEP; the codec must refuse it with exactly this error.
    case invalid(JingleParseError, because: String)
}

/// The table of examples that do not round-trip, each with the reason.
let notRoundTripping: [String: NotRoundTripping] = [
        "xep-0293-04.txt": .fragment("SDP text, not XML"),  // SDP fragment
        "xep-0294-04.txt": .fragment("SDP text, not XML"),  // SDP fragment
        "xep-0353-08.xml": .fragment("several stanzas in one example, with a <retract> closed by </reject>"),
        "xep-0353-09.xml": .fragment("several stanzas in one example"),
        "xep-0176-05.xml": .invalid(JingleParseError(.invalidAttribute("priority", value: "21149780477"), element: "candidate", section: "XEP-0176 §5"),
                                     because: "priority is a 32-bit value (RFC 8445 §5.1.2); 21149780477 exceeds 2^32-1"),
        "xep-0176-11.xml": .invalid(JingleParseError(.missingAttribute("component"), element: "candidate", section: "XEP-0177 §4"),
                                     because: "raw-udp candidate without the required 'component'"),
        "xep-0176-13.xml": .invalid(JingleParseError(.missingAttribute("component"), element: "candidate", section: "XEP-0177 §4"),
                                     because: "raw-udp candidate without the required 'component'"),
        "xep-0293-05.xml": .invalid(JingleParseError(.missingAttribute("action"), element: "jingle", section: "XEP-0166 §7.1"),
                                     because: "the '>' after xmlns turns action/initiator/sid into character data"),
        "xep-0166-05.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0166-07.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session acceptance
        "xep-0166-09.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges termination
        "xep-0166-11.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0166-18.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session acceptance
        "xep-0166-28.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Acknowledging termination
        "xep-0166-33.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator returns IQ-result
        "xep-0166-38.xml": .notJingle("service discovery (XEP-0030)"),  // Service Discovery Information Request
        "xep-0166-39.xml": .notJingle("service discovery (XEP-0030)"),  // Service Discovery Information Response
        "xep-0167-02.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0167-04.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session acceptance
        "xep-0167-15.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0167-16.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0167-18.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0167-20.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges termination
        "xep-0167-22.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0167-24.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges ringing message
        "xep-0167-26.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0167-28.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges termination
        "xep-0167-30.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0167-32.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges ringing message
        "xep-0167-34.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0167-36.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges termination
        "xep-0167-38.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate request
        "xep-0167-40.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges ringing message
        "xep-0167-42.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0167-44.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Acknowledging request
        "xep-0167-46.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges content-modify
        "xep-0167-49.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges content-accept
        "xep-0167-51.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges content-modify message
        "xep-0167-53.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges description-info
        "xep-0167-55.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-terminate
        "xep-0176-02.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges receipt of session-initiate request
        "xep-0176-06.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Recipient acknowledges receipt
        "xep-0176-08.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Recipient acknowledges transport-info
        "xep-0176-10.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0176-12.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges transport-replace
        "xep-0176-14.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Gateway acknowledges transport-accept
        "xep-0176-16.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0176-17.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0176-18.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0176-19.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0176-20.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0177-02.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges the session-initiate request
        "xep-0177-04.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session acceptance
        "xep-0177-06.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges termination
        "xep-0177-07.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0177-08.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0234-02.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0234-04.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0234-07.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // File Receiver acks content-add request
        "xep-0234-11.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // File Sender acks abort request
        "xep-0234-19.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0234-20.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0260-02.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0260-04.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0260-06.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges candidate-used message
        "xep-0260-08.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges candidate-error message
        "xep-0260-09.xml": .notJingle("XEP-0065 proxy activation"),  // Responder activates the bytestream at proxy
        "xep-0260-10.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Proxy informs responder of activation
        "xep-0260-14.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-terminate
        "xep-0260-16.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges transport-replace
        "xep-0260-18.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges transport-accept
        "xep-0260-19.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0260-20.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0261-02.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-initiate
        "xep-0261-04.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Initiator acknowledges session-accept
        "xep-0261-05.xml": .notJingle("XEP-0047 in-band bytestream stanza"),  // Initiator sends IBB <open/>
        "xep-0261-06.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder accepts IBB <open/>
        "xep-0261-07.xml": .notJingle("XEP-0047 in-band bytestream stanza"),  // An IBB packet
        "xep-0261-08.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // An IBB ack
        "xep-0261-10.xml": .notJingle("XEP-0047 in-band bytestream stanza"),  // Initiator sends IBB <open/>
        "xep-0261-11.xml": .notJingle("XEP-0047 in-band bytestream stanza"),  // Ending an IBB session
        "xep-0261-12.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Success response
        "xep-0261-14.xml": .notJingle("empty IQ result acknowledging a set (XEP-0166 §7)"),  // Responder acknowledges session-terminate
        "xep-0261-15.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0261-16.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0293-06.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0293-07.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0294-06.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0294-07.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0300-01.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information request
        "xep-0300-02.xml": .notJingle("service discovery (XEP-0030)"),  // Service discovery information response
        "xep-0320-04.xml": .notJingle("service discovery (XEP-0030)"),  // A disco#info query
        "xep-0320-05.xml": .notJingle("service discovery (XEP-0030)"),  // A disco#info response
        "xep-0338-01.xml": .notJingle("service discovery (XEP-0030)"),  // A disco#info query
        "xep-0338-02.xml": .notJingle("service discovery (XEP-0030)"),  // A disco#info response
        "xep-0339-01.xml": .notJingle("service discovery (XEP-0030)"),  // A disco#info query
        "xep-0339-02.xml": .notJingle("service discovery (XEP-0030)"),  // A disco#info response
        "xep-0353-02.xml": .notJingle("directed presence (XEP-0353 §3.1)"),  // Initiator Sends Directed Presence
        "xep-0353-04.xml": .notJingle("directed presence (XEP-0353 §3.1)"),  // Responder Sends Directed Presence
    ]

@Suite struct XEPExampleTests {
    static let xeps = ["0166", "0167", "0176", "0177", "0234", "0260", "0261", "0293", "0294", "0300", "0320", "0338", "0339", "0353"]

    static let examples: [String] = {
        (try? Fixtures.index().map(\.file)) ?? []
    }()

    @Test func indexCoversEveryXEP() throws {
        let files = Self.examples
        #expect(files.count == 212)
        for xep in Self.xeps {
            #expect(files.contains { $0.hasPrefix("xep-\(xep)-") }, "no example for XEP-\(xep)")
        }
        for name in notRoundTripping.keys { #expect(files.contains(name), "table lists unknown \(name)") }
    }

    @Test(arguments: examples)
    func example(_ file: String) throws {
        let text = try Fixtures.text(file)
        switch notRoundTripping[file] {
        case nil:
            let (_, original, again) = try roundTrip(text)
            #expect(original.normalizedForComparison() == again.normalizedForComparison(), "\(file) does not round-trip")
        case .fragment?:
            #expect(throws: ExampleOutcome.notWellFormed) { try roundTrip(text) }
        case .notJingle?:
            #expect(throws: ExampleOutcome.notJinglePayload) { try roundTrip(text) }
        case .invalid(let error, _)?:
            #expect(throws: ExampleOutcome.rejected(error)) { try roundTrip(text) }
        }
    }

    /// The models say what the examples say (spot checks of typed fields, not just XML identity).
    @Test func typedFieldsOfExamples() throws {
        let initiate = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0320-01.xml"))).jingle())
        #expect(initiate.action == .sessionInitiate)
        #expect(initiate.initiator == jid("romeo@montague.lit/orchard"))
        let content = try #require(initiate.contents.first)
        #expect(content.creator == .initiator && content.name == "voice" && content.effectiveSenders == .both)
        let rtp = try #require(content.description as? RTPDescription)
        #expect(rtp.media == "audio")
        #expect(rtp.payloadTypes.map(\.id) == [96, 97, 18, 103, 98])
        #expect(rtp.payloadTypes[3].channels == 2 && rtp.payloadTypes[3].clockrate == 16000)
        let ice = try #require(content.transport as? ICEUDPTransport)
        #expect(ice.ufrag == "8hhy" && ice.pwd == "asd88fgpdd777uzjYhagZg")
        #expect(ice.candidates.count == 2)
        #expect(ice.candidates[1].type == .srflx && ice.candidates[1].relAddr == "10.0.1.1" && ice.candidates[1].relPort == 8998)
        #expect(ice.fingerprints.first?.setup == .actpass)
        #expect(ice.fingerprints.first?.bytes?.count == 32)

        let terminate = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0166-22.xml"))).jingle())
        #expect(terminate.reason?.condition == .alternativeSession)
        #expect(terminate.reason?.alternativeSessionID == "b84tkkwlmb48kgfb")

        let crypto = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0167-05.xml"))).jingle())
        #expect(crypto.reason?.condition == .securityError)
        #expect(crypto.reason?.extensions.first?.name == "invalid-crypto")

        let mute = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0167-11.xml"))).jingle())
        #expect(mute.info.first?.payload as? RTPSessionInfo == .mute(creator: .responder, name: "voice"))

        let pull = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0234-05.xml"))).jingle())
        #expect(pull.contents.first?.senders == .responder)
        let file = try #require(pull.contents.first?.description as? FileTransferDescription)
        #expect(file.file.hashes.first?.algo == "sha-1")
        #expect(file.file.hashes.first?.digest.count == 20)
        let s5b = try #require(pull.contents.first?.transport as? S5BTransport)
        #expect(s5b.mode == .tcp && s5b.candidates.count == 3 && s5b.candidates[1].type == .assisted)

        let offer = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0234-01.xml"))).jingle())
        let offered = try #require(offer.contents.first?.description as? FileTransferDescription)
        #expect(offered.file.name == "test.txt" && offered.file.size == 6144 && offered.file.mediaType == "text/plain")
        #expect(offered.file.range == FileTransferRange())

        let checksum = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0234-15.xml"))).jingle())
        guard case .checksum(let creator, let name, let rangeFile)? = checksum.info.first?.payload as? FileTransferInfo else {
            Issue.record("no checksum"); return
        }
        #expect(creator == .initiator && name == "a-file-offer")
        #expect(rangeFile.range?.offset == 2048 && rangeFile.range?.length == 1024 && rangeFile.range?.hashes.count == 1)

        let used = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0260-05.xml"))).jingle())
        #expect((used.contents.first?.transport as? S5BTransport)?.candidateUsed == "hr65dqyd")
        let ibb = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0261-01.xml"))).jingle())
        #expect((ibb.contents.first?.transport as? IBBTransport)?.blockSize == 4096)
        #expect(ibb.contents.first?.description is UnknownJinglePayload)

        let fb = try RTPDescription(element: XMLElement(parsing: Fixtures.text("xep-0293-01.xml")))
        #expect(fb.rtcpFeedback == [RTCPFeedback(type: "nack", subtype: "pli")])
        #expect(fb.payloadTypes[0].rtcpFeedbackTRRInt?.value == 100)
        let hdr = try RTPDescription(element: XMLElement(parsing: Fixtures.text("xep-0294-05.xml")))
        #expect(hdr.headerExtensions.map(\.id) == [1, 2, 3] && hdr.headerExtensions[1].senders == .initiator)
        #expect(hdr.extmapAllowMixed)

        let propose = try #require(try Message(element: XMLElement(parsing: Fixtures.text("xep-0353-01.xml"))).jingleMessage())
        #expect(propose.kind == .propose && propose.id == "ca3cf894-5325-482f-a412-a6e9f832298d")
        #expect((propose.descriptions.first as? RTPDescription)?.media == "audio")
        let retract = try #require(try Message(element: XMLElement(parsing: Fixtures.text("xep-0353-03.xml"))).jingleMessage())
        #expect(retract.kind == .retract && retract.reason?.condition == .cancel && retract.reason?.text == "Retracted")

        let error = try #require(try IQ(element: XMLElement(parsing: Fixtures.text("xep-0166-31.xml"))).error)
        #expect(JingleErrorCondition(error) == .unsupportedInfo)
        #expect(error == JingleErrorCondition.unsupportedInfo.stanzaError)
    }
}
