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

    /// The source element's attributes and children. Keeping the arrays themselves costs one reference count
    /// each (they share storage with the parsed element), where copying out their kinds cost an allocation and
    /// a string copy per attribute and child on every parse; the kinds are read only if `apply` must reorder.
    var attributes: [XMLAttribute] = []
    /// Every child node in source order (kinds repeat: interleaved kinds such as `session-info` payloads or
    /// unknown extensions must come back interleaved, or the model changes). Text nodes are skipped when read.
    var children: [XMLNode] = []

    public init() {}

    init(_ element: XMLElement) {
        attributes = element.attributes
        children = element.children
    }

    var attributeOrder: [Key] { attributes.map { Key(namespace: $0.namespace, name: $0.name) } }
    var childOrder: [Key] {
        var out: [Key] = []
        for case .element(let child) in children { out.append(Key(namespace: child.namespace, name: child.name)) }
        return out
    }

    public static func == (lhs: SourceLayout, rhs: SourceLayout) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}

    /// Reorders `element`'s attributes and child elements (stably) to follow the recorded order; kinds not
    /// recorded keep their place after the recorded ones. Elements are small, so linear searches beat hashing,
    /// and the common case (already in order) is one linear comparison with no sorting at all.
    func apply(to element: inout XMLElement) {
        if !attributes.isEmpty && !Self.attributesMatch(attributes, element.attributes) {
            let attributeOrder = self.attributeOrder
            let ranks = element.attributes.map { a in
                attributeOrder.firstIndex { $0.name == a.name && $0.namespace == a.namespace } ?? Int.max
            }
            if !Self.isSorted(ranks) {
                element.attributes = zip(ranks, element.attributes).enumerated()
                    .sorted { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }
                    .map(\.element.1)
            }
        }
        if !children.isEmpty && !Self.childrenMatch(children, element.children) {
            let childOrder = self.childOrder
            guard !childOrder.isEmpty else { return }
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

    /// True when `built` has exactly the recorded attribute kinds in the recorded order: nothing to reorder.
    private static func attributesMatch(_ recorded: [XMLAttribute], _ built: [XMLAttribute]) -> Bool {
        guard recorded.count == built.count else { return false }
        for i in recorded.indices where recorded[i].name != built[i].name || recorded[i].namespace != built[i].namespace {
            return false
        }
        return true
    }

    /// True when the child elements of `built` have exactly the recorded kinds in the recorded order, with any
    /// text of `built` after them: the ranks would then be increasing, so there is nothing to reorder.
    private static func childrenMatch(_ recorded: [XMLNode], _ built: [XMLNode]) -> Bool {
        var i = recorded.startIndex, j = built.startIndex
        while true {
            while i < recorded.endIndex, case .text = recorded[i] { i += 1 }
            if j < built.endIndex, case .text = built[j] {
                // Text ranks last: fine only if no element follows it.
                return i == recorded.endIndex && built[j...].allSatisfy { if case .text = $0 { true } else { false } }
            }
            if i == recorded.endIndex || j == built.endIndex { return i == recorded.endIndex && j == built.endIndex }
            guard case .element(let a) = recorded[i], case .element(let b) = built[j],
                  a.name == b.name, a.namespace == b.namespace else { return false }
            i += 1
            j += 1
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
    /// Builder helper: an element with room for its attributes and children reserved up front, so building it
    /// allocates each array once instead of growing it (1, 2, 4, 8, …) attribute by attribute.
    init(_ name: String, namespace: String, attributeCapacity: Int, childCapacity: Int = 0) {
        self.init(name: name, namespace: namespace)
        if attributeCapacity > 0 { attributes.reserveCapacity(attributeCapacity) }
        if childCapacity > 0 { children.reserveCapacity(childCapacity) }
    }

    /// Builder helper: an element with exactly one unqualified attribute and no children.
    init(_ name: String, namespace: String, attribute: String, value: String) {
        self.init(name: name, namespace: namespace, attributes: [XMLAttribute(name: attribute, value: value)])
    }

    /// Builder helper: appends a child element (in this module, so the append is specialised and inlined).
    mutating func add(_ child: XMLElement) { children.append(.element(child)) }

    /// Builder helper: appends one child per model, each borrowed from the array's buffer (an array's subscript
    /// and iterator copy the model out: a retain and a release per field).
    mutating func add<Model>(_ models: [Model], _ build: (borrowing Model) -> XMLElement) {
        models.withUnsafeBufferPointer { buffer in
            for index in buffer.indices { children.append(.element(build(buffer[index]))) }
        }
    }

    /// Builder helper: sets an optional unqualified attribute.
    mutating func set(_ name: String, _ value: String?) {
        if let value { attributes.append(XMLAttribute(name: name, value: value)) }
    }

    mutating func set<T: CustomStringConvertible>(_ name: String, _ value: T?) {
        if let value { attributes.append(XMLAttribute(name: name, value: value.description)) }
    }

    /// Integers are written by `ASCIIText.decimal`: no generic printer, no allocation.
    mutating func set<T: BinaryInteger>(_ name: String, _ value: T?) {
        if let value { attributes.append(XMLAttribute(name: name, value: ASCIIText.decimal(value))) }
    }

    mutating func set<T: RawRepresentable>(_ name: String, _ value: T?) where T.RawValue == String {
        if let value { attributes.append(XMLAttribute(name: name, value: value.rawValue)) }
    }

    /// Appends extension attributes and children kept from parsing, then restores the source layout.
    mutating func finish(extraAttributes: [XMLAttribute], extensions: [XMLElement], layout: SourceLayout) {
        if !extraAttributes.isEmpty { attributes += extraAttributes }
        for e in extensions { add(e) }
        layout.apply(to: &self)
    }
}
