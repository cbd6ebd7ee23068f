import XMLStream

/// The order in which a parsed element carried its attributes and children.
///
/// Models keep typed fields grouped by kind; writing them back in a fixed order would reorder what a peer sent
/// (XEP-0293 puts `<rtcp-fb/>` before `<payload-type/>`, XEP-0294 puts `<rtp-hdrext/>` first). The layout
/// remembers the first position of each attribute and child kind, and `apply` restores it, so parse then
/// serialize reproduces the input. It never takes part in equality: two models that say the same thing are equal.
public struct SourceLayout: Sendable, Hashable {
    var attributeOrder: [String] = []
    var childOrder: [String] = []

    public init() {}

    init(_ element: XMLElement) {
        attributeOrder = element.attributes.map { $0.namespace + "|" + $0.name }
        var seen: Set<String> = []
        for case .element(let child) in element.children {
            let key = child.namespace + "|" + child.name
            if seen.insert(key).inserted { childOrder.append(key) }
        }
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
            let rank = Dictionary(childOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            element.children = element.children.enumerated().sorted { a, b in
                let ra = Self.rank(a.element, rank), rb = Self.rank(b.element, rank)
                return ra != rb ? ra < rb : a.offset < b.offset
            }.map(\.element)
        }
    }

    private static func rank(_ node: XMLNode, _ rank: [String: Int]) -> Int {
        switch node {
        case .element(let e): rank[e.namespace + "|" + e.name] ?? Int.max
        case .text: Int.max
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
