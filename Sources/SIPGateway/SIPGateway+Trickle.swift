#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jingle
import JingleEngine
import JingleSDP
import SDP
import SIP
import XMPPCore

/// Trickle ICE between SIP INFO (RFC 8840, `application/trickle-ice-sdpfrag`, Info-Package `trickle-ice`)
/// and Jingle transport-info (XEP-0176 §3), for `--media passthrough` where the parties run ICE end to end.
enum TrickleSDPFrag {
    static let contentType = "application/trickle-ice-sdpfrag"
    static let infoPackage = "trickle-ice"

    /// Whether an INFO is a trickle-ICE one (RFC 8840 §9: that content type, or the older `application/sdpfrag`).
    static func isTrickle(contentType header: String?) -> Bool {
        guard let type = header?.split(separator: ";").first?.trimmingBlanks.lowercased() else { return false }
        return type == contentType || type == "application/sdpfrag"
    }

    /// Parses an sdpfrag (RFC 8840 §9: session-level `a=ice-ufrag`/`a=ice-pwd`, then `m=` lines with `a=mid` and
    /// `a=candidate`) as an SDP by adding the mandatory session lines it leaves out.
    static func parse(_ body: [UInt8]) throws(GatewayError) -> SessionDescription {
        guard let text = String(bytes: body, encoding: .utf8) else { throw .invalidSDP("sdpfrag is not UTF-8") }
        let lines = text.split(whereSeparator: \.isNewline).map { String($0.trimmingBlanks) }.filter { !$0.isEmpty }
        guard lines.contains(where: { $0.hasPrefix("m=") }) else { throw .invalidSDP("sdpfrag without an m= line (RFC 8840 §9)") }
        let full = (["v=0", "o=- 0 0 IN IP4 0.0.0.0", "s=-", "t=0 0"] + lines).joined(separator: "\r\n") + "\r\n"
        do {
            return try SessionDescription(parsing: full)
        } catch {
            throw .invalidSDP("sdpfrag: \(error)")
        }
    }

    /// The sdpfrag for a transport-info mapped to SDP: credentials at session level, then each m-line with its
    /// mid and candidates (and `a=end-of-candidates` when given), as RFC 8840 §9 lays it out.
    static func fragment(from description: SessionDescription) -> String {
        var lines: [String] = []
        if let first = description.media.first {
            if let ufrag = description.iceUfrag(for: first) { lines.append("a=ice-ufrag:\(ufrag)") }
            if let pwd = description.icePwd(for: first) { lines.append("a=ice-pwd:\(pwd)") }
        }
        for section in description.media {
            lines.append("m=\(section.media) \(section.port) \(section.proto) \(section.formats.joined(separator: " "))")
            if let mid = section.mid { lines.append("a=mid:\(mid)") }
            for candidate in section.candidates { lines.append("a=candidate:\(candidate.serialized())") }
            if section.endOfCandidates { lines.append("a=end-of-candidates") }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension SIPGateway {
    /// A trickle INFO from the SIP party -> transport-info to the Jingle party. `sipAuthor` is the SIP party's
    /// role in the Jingle session (initiator for SIP-originated calls).
    func sipTrickle(_ body: [UInt8], session: JingleSessionID, initiator: JID, responder: JID, sipAuthor: JingleRole) async -> Int {
        do {
            let fragment = try TrickleSDPFrag.parse(body)
            let payload = try configuration.mapper.jingle(from: fragment, context: .init(author: sipAuthor, action: .transportInfo, sid: session.sid,
                                                                                         initiator: initiator, responder: responder))
            let count = payload.contents.reduce(0) { $0 + (($1.transport as? ICEUDPTransport)?.candidates.count ?? 0) }
            try await engine.sendTransportInfo(session, contents: payload.contents)
            return count
        } catch {
            logTrickle("SIP INFO not passed on (\(error))")
            return 0
        }
    }

    /// A transport-info from the Jingle party after the SDP went out -> INFO to the SIP party.
    func jingleTrickle(_ payload: JinglePayload, call: SIPCall, jingleAuthor: JingleRole) async -> Int {
        do {
            let description = try configuration.mapper.sdp(from: payload, author: jingleAuthor)
            let count = description.media.reduce(0) { $0 + $1.candidates.count }
            let body = Array(TrickleSDPFrag.fragment(from: description).utf8)
            let result = try await call.sendInfo(contentType: TrickleSDPFrag.contentType, body: body, infoPackage: TrickleSDPFrag.infoPackage)
            guard (200..<300).contains(result.status) else {
                logTrickle("trickle INFO answered \(result.status)")
                return 0
            }
            return count
        } catch {
            logTrickle("transport-info not passed on as INFO (\(error))")
            return 0
        }
    }
}
