import XMLStream

/// The order in which a parsed element carried its attributes and children.
///
/// Models keep typed fields grouped by kind; writing them back in a fixed order would reorder what a peer sent
/// (XEP-0293 puts `<rtcp-fb/>` before `<payload-type/>`, XEP-0294 puts `<rtp-hdrext/>` first). The layout
/// remembers the position of each attribute and child element, and `apply` restores it, so parse then
/// serialize reproduces the input. It never takes part in equality: two models that say the same thing are equal.
public struct SourceLayout: Sendable, Hashable {
    var attributeOrder: [String] = []
    /// The kind of every child element in source order (kinds repeat: interleaved kinds such as
    /// `session-info` payloads or unknown extensions must come back interleaved, or the model changes).
    var childOrder: [String] = []

    public init() {}

    init(_ element: XMLElement) {
        attributeOrder = element.attributes.map { $0.namespace + "|" + $0.name }
        for case .element(let child) in element.children { childOrder.append(child.namespace + "|" + child.name) }
    }

    public static func == (lhs: SourceLayout, rhs: SourceLayout) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}

    /// Reorders `element`'s attributes and child elements (stably) to follow the recorded order; kinds not
    /// recorded keep their place after the recorded ones.
    func apply(to element: inout XMLElement) {
        if attributeOrder.isEmpty && childOrder.isEmpty { return }
        if !attributeOrder.isEmpty {
            let rank = Dictionary(attributeOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            element.attributes = element.attributes.enumerated().sorted { a, b in
                let ra = rank[a.element.namespace + "|" + a.element.name] ?? Int.max
                let rb = rank[b.element.namespace + "|" + b.element.name] ?? Int.max
                return ra != rb ? ra < rb : a.offset < b.offset
            }.map(\.element)
        }
        if !childOrder.isEmpty {
            // The k-th child of a kind goes where the k-th child of that kind was; children beyond what was
            // recorded go right after the last recorded one of their kind.
            var positions: [String: [Int]] = [:]
            for (position, key) in childOrder.enumerated() { positions[key, default: []].append(position) }
            var seen: [String: Int] = [:]
            let ranks: [Int] = element.children.map { node in
                guard case .element(let e) = node else { return Int.max }
                let key = e.namespace + "|" + e.name
                guard let recorded = positions[key] else { return Int.max }
                let ordinal = seen[key, default: 0]
                seen[key] = ordinal + 1
                return recorded[min(ordinal, recorded.count - 1)]
            }
            element.children = element.children.enumerated().sorted { a, b in
                let ra = ranks[a.offset], rb = ranks[b.offset]
                return ra != rb ? ra < rb : a.offset < b.offset
            }.map(\.element)
        }
    }
}

extension XMLElement {
    /// Builder helper: sets an optional unqualified attribute.
    mutating func set(_ name: String, _ value: String?) {
        if let value { attributes.append(XMLAttribute(name: name, value: value)) }
    }

    mutating func set<T: CustomStringConvertible>(_ name: String, _ value: T?) {
        if let value { attributes.append(XMLAttribute(name: name, value: value.description)) }
    }

    mutating func set<T: RawRepresentable>(_ name: String, _ value: T?) where T.RawValue == String {
        if let value { attributes.append(XMLAttribute(name: name, value: value.rawValue)) }
    }

    /// Appends extension attributes and children kept from parsing, then restores the source layout.
    mutating func finish(extraAttributes: [XMLAttribute], extensions: [XMLElement], layout: SourceLayout) {
        attributes += extraAttributes
        for e in extensions { append(e) }
        layout.apply(to: &self)
    }
}
