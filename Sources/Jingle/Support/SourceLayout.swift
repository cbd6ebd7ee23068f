import XMLStream

/// The order in which a parsed element carried its attributes and children.
///
/// Models keep typed fields grouped by kind; writing them back in a fixed order would reorder what a peer sent
/// (XEP-0293 puts `<rtcp-fb/>` before `<payload-type/>`, XEP-0294 puts `<rtp-hdrext/>` first). The layout
/// remembers the position of each attribute and child element, and `apply` restores it, so parse then
/// serialize reproduces the input. It never takes part in equality: two models that say the same thing are equal.
public struct SourceLayout: Sendable, Hashable {
    struct Key: Sendable, Hashable {
        var namespace: String
        var name: String
    }

    var attributeOrder: [Key] = []
    /// The kind of every child element in source order (kinds repeat: interleaved kinds such as
    /// `session-info` payloads or unknown extensions must come back interleaved, or the model changes).
    var childOrder: [Key] = []

    public init() {}

    init(_ element: XMLElement) {
        attributeOrder = element.attributes.map { Key(namespace: $0.namespace, name: $0.name) }
        for case .element(let child) in element.children { childOrder.append(Key(namespace: child.namespace, name: child.name)) }
    }

    public static func == (lhs: SourceLayout, rhs: SourceLayout) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}

    /// Reorders `element`'s attributes and child elements (stably) to follow the recorded order; kinds not
    /// recorded keep their place after the recorded ones. Elements are small, so linear searches beat hashing,
    /// and the common case (already in order) does no sorting at all.
    func apply(to element: inout XMLElement) {
        if !attributeOrder.isEmpty {
            let ranks = element.attributes.map { a in
                attributeOrder.firstIndex { $0.name == a.name && $0.namespace == a.namespace } ?? Int.max
            }
            if !Self.isSorted(ranks) {
                element.attributes = zip(ranks, element.attributes).enumerated()
                    .sorted { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }
                    .map(\.element.1)
            }
        }
        if !childOrder.isEmpty {
            // The k-th child of a kind goes where the k-th child of that kind was; children beyond what was
            // recorded go right after the last recorded one of their kind.
            var seen: [Key] = []
            let ranks = element.children.map { node -> Int in
                guard case .element(let e) = node else { return Int.max }
                let key = Key(namespace: e.namespace, name: e.name)
                let ordinal = seen.lazy.filter { $0 == key }.count
                seen.append(key)
                var match = 0
                var last = Int.max
                for (position, recorded) in childOrder.enumerated() where recorded == key {
                    last = position
                    if match == ordinal { return position }
                    match += 1
                }
                return last
            }
            if !Self.isSorted(ranks) {
                element.children = zip(ranks, element.children).enumerated()
                    .sorted { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }
                    .map(\.element.1)
            }
        }
    }

    private static func isSorted(_ ranks: [Int]) -> Bool {
        var previous = Int.min
        for r in ranks {
            if r < previous { return false }
            previous = r
        }
        return true
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
