import ArgumentParser
import Foundation
import Jingle
import JingleSDP
import SDP
import XMLStream
import XMPPCore

/// `jingle sdp to-jingle|to-sdp`: the Jingle <-> SDP mapping of XEP-0167 from the command line, for checking
/// what a gateway would send.
struct SDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp",
        abstract: "Map a session description to a Jingle element and back (XEP-0167 §\"Mapping to SDP\").",
        discussion: """
        Directions are read from the SDP author's side: senders='initiator' is a=sendonly in the initiator's \
        offer and a=recvonly in the responder's answer, so say who wrote the SDP with --role.

        Examples:
          jingle sdp to-jingle --role initiator --action session-initiate offer.sdp
          jingle sdp to-jingle --action session-accept --sid a73sjjvkla37jfea --compact - < answer.sdp
          jingle sdp to-sdp session-initiate.xml
          jingle sdp to-jingle offer.sdp | jingle sdp to-sdp -
        """,
        subcommands: [ToJingle.self, ToSDP.self]
    )

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case initiator, responder
        var jingle: JingleRole { self == .initiator ? .initiator : .responder }
    }

    struct Action: ExpressibleByArgument {
        let action: JingleWireAction
        init?(argument: String) {
            guard let action = JingleWireAction(rawValue: argument) else { return nil }
            self.action = action
        }
        static var allValueStrings: [String] { JingleWireAction.allCases.map(\.rawValue) }
    }

    /// Reads FILE, or standard input for `-`; a failure is a bad-input error (exit 1).
    static func read(_ path: String) throws -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else { throw fail("cannot read '\(path)'") }
            data = contents
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Names on standard error what the other side cannot carry (the mapping drops it on purpose), so that
    /// nothing goes missing unnoticed; standard output stays the mapped text alone, for pipes.
    static func warn(_ dropped: [JingleSDPDroppedLine], quiet: Bool) {
        guard !quiet, !dropped.isEmpty else { return }
        let lines = dropped.map { "warning: not carried: \($0.description.split(whereSeparator: \.isNewline).joined(separator: " "))\n" }
        FileHandle.standardError.write(Data(lines.joined().utf8))
    }

    /// Prints one line to standard error and exits 1 (bad input, not a usage error).
    static func fail(_ message: String) -> ExitCode {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("error: \(line)\n".utf8))
        return ExitCode(1)
    }

    struct ToJingle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "to-jingle",
            abstract: "Read SDP and print the <jingle/> element it maps to.",
            discussion: """
            Examples:
              jingle sdp to-jingle offer.sdp
              jingle sdp to-jingle --role responder --action session-accept --initiator romeo@montague.lit/orchard answer.sdp
              cat trickle.sdp | jingle sdp to-jingle --action transport-info --sid a73sjjvkla37jfea -
            """
        )

        @Option(help: "Who wrote the SDP (default: responder for *-accept actions, else initiator).")
        var role: Role?
        @Option(help: ArgumentHelp("The Jingle action.", valueName: "action"))
        var action: Action = Action(argument: "session-initiate")!
        @Option(help: "Session id (default: the o= session id).")
        var sid: String?
        @Option(help: "Initiator JID.")
        var initiator: String?
        @Option(help: "Responder JID.")
        var responder: String?
        @Flag(help: "Print the element on one line instead of indented.")
        var compact = false
        @Flag(help: "Do not list on standard error the SDP lines Jingle cannot carry.")
        var quiet = false
        @Argument(help: "SDP file, or - for standard input.")
        var file: String = "-"

        func validate() throws {
            for (name, value) in [("--initiator", initiator), ("--responder", responder)] {
                if let value, (try? JID(value)) == nil { throw ValidationError("\(name) '\(value)' is not a valid JID") }
            }
            if let sid, sid.isEmpty { throw ValidationError("--sid must not be empty") }
        }

        func run() throws {
            let text = try SDPCommand.read(file)
            let sdp: SessionDescription
            do { sdp = try SessionDescription(parsing: text) } catch { throw SDPCommand.fail(error.description) }
            let author = role?.jingle ?? JingleSDPMapper.defaultAuthor(for: action.action)
            let context = JingleSDPMapper.Context(author: author, action: action.action, sid: sid,
                                                  initiator: initiator.flatMap { try? JID($0) },
                                                  responder: responder.flatMap { try? JID($0) })
            // Streams Jingle has no application for (BFCP, T.38, MSRP …) are left out and named, as the gateway
            // does, unless nothing else is left: then the mapping's own error explains.
            var carried = sdp
            var skipped: [JingleSDPDroppedLine] = []
            if sdp.media.contains(where: { !JingleSDPMapper.canCarry($0) }), sdp.media.contains(where: JingleSDPMapper.canCarry) {
                for (index, section) in sdp.media.enumerated() where !JingleSDPMapper.canCarry(section) {
                    skipped.append(JingleSDPDroppedLine(mediaIndex: index, line: "m=\(section.media) \(section.port) \(section.proto) \(section.formats.joined(separator: " "))",
                                                        reason: "Jingle carries RTP (XEP-0167) and WebRTC data channels (XEP-0343) only: the whole stream is left out"))
                }
                carried = JingleSDPMapper.restricted(sdp, to: { JingleSDPMapper.canCarry(sdp.media[$0]) })
            }
            let payload: JinglePayload
            do { payload = try JingleSDPMapper().jingle(from: carried, context: context) } catch { throw SDPCommand.fail(error.description) }
            let element = payload.element()
            print(compact ? element.serialized() : PrettyXML.format(element))
            // Transport-info and the like carry a part of the SDP on purpose: the list is for full descriptions.
            if context.action == .sessionInitiate || context.action == .sessionAccept || context.action == .contentAdd
                || context.action == .contentAccept {
                // Numbered as in the input, not as in the part that was mapped.
                let positions = skipped.isEmpty ? Array(sdp.media.indices) : sdp.media.indices.filter { JingleSDPMapper.canCarry(sdp.media[$0]) }
                let dropped = JingleSDPMapper.droppedLines(in: carried).map { line in
                    var line = line
                    line.mediaIndex = line.mediaIndex.map { positions[$0] }
                    return line
                }
                SDPCommand.warn((skipped + dropped).sorted { ($0.mediaIndex ?? -1) < ($1.mediaIndex ?? -1) }, quiet: quiet)
            } else {
                SDPCommand.warn(skipped, quiet: quiet)
            }
        }
    }

    struct ToSDP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "to-sdp",
            abstract: "Read a <jingle/> element (or an <iq/> holding one) and print the SDP it maps to.",
            discussion: """
            Examples:
              jingle sdp to-sdp session-initiate.xml
              jingle sdp to-sdp --role responder --numeric-foundations accept.xml
              jingle sdp to-jingle offer.sdp | jingle sdp to-sdp -
            """
        )

        @Option(help: "Who the SDP is written for (default: responder for *-accept actions, else initiator).")
        var role: Role?
        @Option(help: "The o= session version (raise it on every re-offer, RFC 3264 §8).")
        var sessionVersion: UInt64 = 0
        @Flag(help: "Write ICE foundations as digits, for SIP peers that want numbers.")
        var numericFoundations = false
        @Flag(help: "Do not list on standard error the Jingle elements SDP cannot carry.")
        var quiet = false
        @Argument(help: "XML file, or - for standard input.")
        var file: String = "-"

        func run() throws {
            let text = try SDPCommand.read(file)
            let root: XMLElement
            do { root = try XMLElement(parsing: text) } catch { throw SDPCommand.fail("not well-formed XML: \(error.description)") }
            let element: XMLElement
            if root.name == "jingle" && root.namespace == NS.jingle {
                element = root
            } else if root.name == "iq", let jingle = root.child("jingle", namespace: NS.jingle) {
                element = jingle
            } else {
                throw SDPCommand.fail("expected <jingle xmlns='\(NS.jingle)'/> or an <iq/> holding one, got <\(root.name) xmlns='\(root.namespace)'/>")
            }
            let payload: JinglePayload
            do { payload = try JinglePayload(element: element, registry: .sdpMapping) } catch { throw SDPCommand.fail(error.description) }
            let mapper = JingleSDPMapper(options: .init(foundations: numericFoundations ? .numeric : .verbatim, sessionVersion: sessionVersion))
            let author = role?.jingle ?? JingleSDPMapper.defaultAuthor(for: payload.action)
            do {
                let sdp = try mapper.sdp(from: payload, author: author)
                FileHandle.standardOutput.write(Data(sdp.serialized().utf8))
            } catch {
                throw SDPCommand.fail(error.description)
            }
            SDPCommand.warn(JingleSDPMapper.droppedElements(in: payload), quiet: quiet)
        }
    }
}
