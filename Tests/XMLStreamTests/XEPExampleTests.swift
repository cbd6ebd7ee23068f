import Foundation
import Testing
@testable import XMLStream

/// The XEPs' own example stanzas: each parses, serializes and re-parses to the same tree.
/// Examples that are not a single well-formed document are classified by hand (checked against an
/// independent XML parser) and each class is parsed the way it appears on a real stream.
struct XEPExampleTests {
    enum Shape: Sendable {
        case document        // one root element
        case streamContent   // several stanzas, or elements using the stream's `stream:` prefix
        case streamHead      // opens a stream (and may carry its first elements)
        case streamTail      // ends with </stream:stream>
        case malformed       // not well-formed in any context (the example itself is broken)
    }

    static let nonDocuments: [String: Shape] = [
        "xep-0030-07.xml": .streamContent, "xep-0030-08.xml": .streamContent,
        "xep-0115-05.xml": .streamContent, "xep-0198-07.xml": .streamContent,
        "xep-0198-20.xml": .streamContent,
        "xep-0198-21.xml": .streamContent, "xep-0198-22.xml": .streamContent,
        "xep-0198-23.xml": .streamContent, "xep-0198-24.xml": .streamContent,
        "xep-0198-26.xml": .streamContent, "xep-0198-27.xml": .streamContent,
        "xep-0353-09.xml": .streamContent,
        "xep-0114-01.xml": .streamHead, "xep-0114-02.xml": .streamHead, "xep-0198-01.xml": .streamHead,
        "xep-0198-15.xml": .streamTail, "xep-0198-17.xml": .streamTail,
        // <service> elements are never closed in the XEP text.
        "xep-0215-05.xml": .malformed,
        // <retract> is closed by </reject> in the XEP text.
        "xep-0353-08.xml": .malformed,
    ]

    static let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

    static var fixtureDirectory: URL {
        Bundle.module.url(forResource: "xep-examples", withExtension: nil, subdirectory: "Fixtures")!
    }

    static var allFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: fixtureDirectory.path))?
            .filter { $0.hasSuffix(".xml") }.sorted() ?? []
    }

    static func read(_ name: String) throws -> String {
        try String(contentsOf: fixtureDirectory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Serializing and re-parsing an element gives the same element.
    static func expectRoundTrip(_ element: XMLElement, defaultNamespace: String = "", file: String) throws {
        let text = element.serialized(defaultNamespace: defaultNamespace)
        let reparsed: XMLElement
        if defaultNamespace.isEmpty {
            reparsed = try XMLElement(parsing: text)
        } else {
            let parser = XMLStreamParser()
            let events = try parser.feed(header + text)
            guard events.count == 2, case .element(let e) = events[1] else {
                Issue.record("\(file): re-parse gave \(events)"); return
            }
            reparsed = e
        }
        #expect(reparsed == element, "\(file): \(text)")
    }

    @Test func fixturesArePresent() {
        #expect(Self.allFiles.count == 330)
    }

    @Test(arguments: allFiles)
    func example(_ name: String) throws {
        let text = try Self.read(name)
        let shape = Self.nonDocuments[name] ?? .document
        switch shape {
        case .document:
            let element = try XMLElement(parsing: text)
            try Self.expectRoundTrip(element, file: name)
            try Self.expectRoundTrip(element.trimmingWhitespaceText(), file: name)
        case .streamContent:
            #expect(throws: XMLStreamError.self) { try XMLElement(parsing: text) }
            // Parsed as a document (the examples carry explanatory comments, which a live stream refuses).
            let root = try XMLElement(parsing: Self.header + text + "</stream:stream>")
            let elements = root.elements
            #expect(!elements.isEmpty)
            for element in elements { try Self.expectRoundTrip(element, defaultNamespace: "jabber:client", file: name) }
        case .streamHead:
            #expect(throws: XMLStreamError.self) { try XMLElement(parsing: text) }
            let parser = XMLStreamParser()
            let events = try parser.feed(text)
            guard case .streamOpened(let head)? = events.first else { Issue.record("\(name): no stream opened"); return }
            #expect(head.name == "stream" && head.namespace == "http://etherx.jabber.org/streams")
            // The stream is still open: ending the input here is an error, not a silent success.
            #expect(throws: XMLStreamError.unexpectedEnd) { try parser.finish() }
        case .streamTail:
            let parser = XMLStreamParser()
            let events = try parser.feed(Self.header + text) + parser.finish()
            #expect(events.last == .streamClosed && events.count >= 3)
        case .malformed:
            #expect(throws: XMLStreamError.self) { try XMLElement(parsing: text) }
            let parser = XMLStreamParser()
            #expect(throws: XMLStreamError.self) { _ = try parser.feed(Self.header + text + "</stream:stream>") }
        }
    }
}
