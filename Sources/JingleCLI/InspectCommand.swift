import ArgumentParser
import Foundation
import Jingle
import XMLStream
import XMPPCore

/// `jingle inspect`: validate Jingle stanzas and print them in canonical form.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate Jingle stanzas and print each in canonical XML.",
        discussion: """
        Reads one or more stanzas (an <iq/> carrying <jingle xmlns='urn:xmpp:jingle:1'/>, or a bare \
        <jingle/> element) from FILE or standard input, checks structure, required attributes and legal \
        values against XEP-0166 and the XEPs of its application formats and transports, and prints each \
        stanza in canonical XML with every problem and the section it breaks. Extension elements in other \
        namespaces are kept and are not errors; a broken SHOULD is a warning.

        Exit status: 0 if every stanza is valid (warnings allowed), 1 if any is invalid or the input is \
        not well-formed XML, 64 on a usage error.

        Examples:
          jingle inspect session-initiate.xml
          xmllint --format capture.xml | jingle inspect --json -
          jingle inspect --pretty - < stanza.xml
        """
    )

    @Argument(help: "File to read, or - for standard input.")
    var file: String = "-"

    @Flag(help: "Print one JSON object per stanza instead of XML and diagnostics.")
    var json = false

    @Flag(help: "Indent the canonical XML.")
    var pretty = false

    func run() throws {
        let text: String
        do {
            text = try readInput(file)
        } catch {
            throw CLIError("cannot read \(file): \(error.localizedDescription)")
        }
        let reports: [StanzaReport]
        switch Inspector.inspect(text) {
        case .success(let found):
            reports = found
        case .failure(let error):
            if json {
                print(JSONLine.object(["index": .number(0), "valid": .bool(false), "diagnostics": .array([
                    .object(["severity": .string("error"), "message": .string("not well-formed XML: \(error)"), "section": .string("RFC 6120 §11")]),
                ])]))
            }
            throw CLIError("not well-formed XML: \(error)", hint: "the input must hold one or more complete stanzas")
        }
        if reports.isEmpty { throw CLIError("no stanza found in \(file == "-" ? "standard input" : file)") }
        for report in reports {
            if json {
                print(report.json)
            } else {
                print(pretty ? PrettyXML.format(report.canonical) : report.canonical.serialized())
                for diagnostic in report.diagnostics {
                    FileHandle.standardError.write(Data("stanza \(report.index): \(diagnostic)\n".utf8))
                }
            }
        }
        let invalid = reports.filter { !$0.valid }.count
        if !json {
            FileHandle.standardError.write(Data("\(reports.count) stanza(s), \(invalid) invalid\n".utf8))
        }
        if invalid > 0 { throw ExitCode(1) }
    }
}

/// The findings for one stanza.
struct StanzaReport {
    var index: Int
    var canonical: XMLElement
    var action: String?
    var sid: String?
    var diagnostics: [JingleDiagnostic]
    var valid: Bool { !diagnostics.contains { $0.severity == .error } }

    var json: String {
        var fields: [String: JSONLine] = [
            "index": .number(index),
            "valid": .bool(valid),
            "canonical": .string(canonical.serialized()),
            "diagnostics": .array(diagnostics.map {
                .object(["severity": .string($0.severity.rawValue), "message": .string($0.message), "section": .string($0.section)])
            }),
        ]
        if let action { fields["action"] = .string(action) }
        if let sid { fields["sid"] = .string(sid) }
        return JSONLine.object(fields).description
    }
}

enum Inspector {
    static let streamHeader = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

    /// Splits the input into stanzas (as children of a synthetic stream, so the XEPs' unqualified
    /// `<iq/>` examples get `jabber:client`), then validates each.
    static func inspect(_ text: String) -> Result<[StanzaReport], XMLStreamError> {
        var body = text
        // An XML declaration may only open a document; drop it before wrapping.
        if body.hasPrefix("<?xml"), let end = body.range(of: "?>") { body = String(body[end.upperBound...]) }
        let root: XMLElement
        do throws(XMLStreamError) {
            root = try XMLElement(parsing: streamHeader + body + "</stream:stream>")
        } catch {
            return .failure(error)
        }
        return .success(root.elements.enumerated().map { index, element in report(element, index: index + 1) })
    }

    static func report(_ element: XMLElement, index: Int) -> StanzaReport {
        var diagnostics: [JingleDiagnostic] = []
        var canonical = element
        var action: String?
        var sid: String?
        let jingleElement: XMLElement?
        if element.name == "jingle" && element.namespace == NS.jingle {
            jingleElement = element
        } else if element.name == "iq" {
            jingleElement = element.child("jingle", namespace: NS.jingle)
            do throws(StanzaParseError) {
                let iq = try IQ(element: element)
                if iq.type != .set {
                    diagnostics.append(JingleDiagnostic(.error, "Jingle actions are sent in IQs of type 'set', not '\(iq.type.rawValue)'", section: "XEP-0166 §7.1"))
                }
                try iq.validatedAddresses()
            } catch {
                diagnostics.append(JingleDiagnostic(.error, "invalid IQ: \(error)", section: "RFC 6120 §8"))
            }
        } else {
            jingleElement = nil
        }
        diagnostics += JingleValidator.validate(element)
        if let jingleElement, let payload = try? JinglePayload(element: jingleElement) {
            action = payload.action.rawValue
            sid = payload.sid
            let canonicalJingle = payload.element()
            if element.name == "jingle" {
                canonical = canonicalJingle
            } else {
                canonical.children = canonical.children.map { node in
                    if case .element(let child) = node, child.name == "jingle", child.namespace == NS.jingle { return .element(canonicalJingle) }
                    return node
                }
            }
        } else {
            action = jingleElement?[attribute: "action"]
            sid = jingleElement?[attribute: "sid"]
        }
        return StanzaReport(index: index, canonical: canonical.trimmingWhitespaceText(), action: action, sid: sid,
                            diagnostics: diagnostics.sorted { $0.severity < $1.severity })
    }
}
