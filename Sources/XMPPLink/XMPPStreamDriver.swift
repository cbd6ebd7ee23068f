import XMLStream

/// Couples an `XMPPStreamMachine` with the XML parser for its bytes, and carries out `resetParser` itself
/// (a restarted stream needs a fresh parser, RFC 6120 §4.3.3). Still I/O-free: bytes in, actions out.
/// Not thread-safe: owned by one actor (or one test).
public final class XMPPStreamDriver {
    public private(set) var machine: XMPPStreamMachine
    private let limits: XMLStreamLimits
    private var parser: XMLStreamParser

    public init(role: XMPPStreamMachine.Role, limits: XMLStreamLimits = .default) {
        self.machine = XMPPStreamMachine(role: role)
        self.limits = limits
        self.parser = XMLStreamParser(mode: .stream, limits: limits)
    }

    /// Runs a machine call and handles `resetParser`; the other actions are returned in order.
    public func perform(_ body: (inout XMPPStreamMachine) throws(XMPPLinkError) -> [XMPPStreamMachine.Action]) throws(XMPPLinkError) -> [XMPPStreamMachine.Action] {
        let actions = try body(&machine)
        return actions.filter { action in
            if case .resetParser = action {
                parser = XMLStreamParser(mode: .stream, limits: limits)
                return false
            }
            return true
        }
    }

    public func start() -> [XMPPStreamMachine.Action] {
        (try? perform { $0.start() }) ?? []
    }

    /// Feeds bytes from the peer.
    public func receive<Bytes: Sequence>(_ bytes: Bytes) -> [XMPPStreamMachine.Action] where Bytes.Element == UInt8 {
        let currentParser = parser
        var out: [XMPPStreamMachine.Action] = []
        let events: [XMLStreamEvent]
        do throws(XMLStreamError) {
            events = try currentParser.feed(bytes)
        } catch {
            return (try? perform { $0.receive(parseError: error) }) ?? []
        }
        for event in events {
            // After a reset the rest of this batch belonged to the old stream, which the peer may not
            // continue once it asked for a restart; drop it.
            guard parser === currentParser else { break }
            out += (try? perform { $0.receive(event) }) ?? []
        }
        return out
    }
}
