/// One element of an RFC 8285 header extension: a locally negotiated id (`a=extmap`) and its value.
public struct RTPHeaderExtensionElement: Sendable, Hashable {
    public var id: UInt8
    public var value: [UInt8]

    public init(id: UInt8, value: [UInt8]) {
        self.id = id
        self.value = value
    }
}

/// The header extension that follows the CSRC list when the X bit is set (RFC 3550 §5.3.1).
///
/// RFC 8285 defines two forms that carry several id/value elements; they are parsed into elements. Any other
/// profile value is kept as opaque bytes.
public enum RTPHeaderExtension: Sendable, Hashable {
    /// RFC 8285 §4.2: profile 0xBEDE; ids 1–14, values of 1–16 bytes.
    case oneByte([RTPHeaderExtensionElement])
    /// RFC 8285 §4.3: profile 0x100 followed by 4 application bits; ids 1–255, values of 0–255 bytes.
    case twoByte(appBits: UInt8, [RTPHeaderExtensionElement])
    /// RFC 3550 §5.3.1: a profile-defined 16-bit value and data (a whole number of 32-bit words).
    case generic(profile: UInt16, data: [UInt8])

    /// The "defined by profile" value of the one-byte form (RFC 8285 §4.2).
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// The two-byte form's profile value without its four application bits (RFC 8285 §4.3).
    public static let twoByteProfile: UInt16 = 0x1000

    /// The elements of an RFC 8285 extension (empty for `.generic`).
    public var elements: [RTPHeaderExtensionElement] {
        switch self {
        case .oneByte(let elements), .twoByte(_, let elements): elements
        case .generic: []
        }
    }

    /// The value of the element with this id, if present.
    public func value(forID id: UInt8) -> [UInt8]? {
        elements.first { $0.id == id }?.value
    }

    /// Parses the extension's data block given its profile value (RFC 8285 §4.2/§4.3).
    static func parse(profile: UInt16, data: [UInt8]) throws(RTPError) -> RTPHeaderExtension {
        if profile == oneByteProfile {
            var elements: [RTPHeaderExtensionElement] = []
            var index = 0
            while index < data.count {
                let byte = data[index]
                index += 1
                // A zero byte is padding between or after elements (RFC 8285 §4.2).
                if byte == 0 { continue }
                let id = byte >> 4
                // Id 15 is reserved: stop processing the whole block there (RFC 8285 §4.2).
                if id == 15 { break }
                let length = Int(byte & 0x0F) + 1
                guard index + length <= data.count else {
                    throw .invalidHeaderExtension("one-byte element id \(id) of \(length) bytes overruns the block")
                }
                elements.append(RTPHeaderExtensionElement(id: id, value: Array(data[index..<index + length])))
                index += length
            }
            return .oneByte(elements)
        }
        if profile & 0xFFF0 == twoByteProfile {
            var elements: [RTPHeaderExtensionElement] = []
            var index = 0
            while index < data.count {
                let id = data[index]
                index += 1
                // A zero id byte is a single padding octet (RFC 8285 §4.3).
                if id == 0 { continue }
                guard index < data.count else {
                    throw .invalidHeaderExtension("two-byte element id \(id) has no length octet")
                }
                let length = Int(data[index])
                index += 1
                guard index + length <= data.count else {
                    throw .invalidHeaderExtension("two-byte element id \(id) of \(length) bytes overruns the block")
                }
                elements.append(RTPHeaderExtensionElement(id: id, value: Array(data[index..<index + length])))
                index += length
            }
            return .twoByte(appBits: UInt8(profile & 0x000F), elements)
        }
        return .generic(profile: profile, data: data)
    }

    /// The profile value and the data block padded with zeros to a multiple of 4 bytes.
    func encoded() throws(RTPError) -> (profile: UInt16, data: [UInt8]) {
        var data: [UInt8] = []
        let profile: UInt16
        switch self {
        case .oneByte(let elements):
            profile = Self.oneByteProfile
            for element in elements {
                guard (1...14).contains(element.id) else {
                    throw .invalidHeaderExtension("one-byte element id \(element.id) outside 1–14")
                }
                guard (1...16).contains(element.value.count) else {
                    throw .invalidHeaderExtension("one-byte element id \(element.id) value of \(element.value.count) bytes (1–16 allowed)")
                }
                data.append(element.id << 4 | UInt8(element.value.count - 1))
                data.append(contentsOf: element.value)
            }
        case .twoByte(let appBits, let elements):
            guard appBits <= 0x0F else { throw .fieldOutOfRange(field: "appBits", value: Int(appBits)) }
            profile = Self.twoByteProfile | UInt16(appBits)
            for element in elements {
                guard element.id != 0 else { throw .invalidHeaderExtension("two-byte element id 0 is padding") }
                guard element.value.count <= 255 else {
                    throw .invalidHeaderExtension("two-byte element id \(element.id) value of \(element.value.count) bytes (0–255 allowed)")
                }
                data.append(element.id)
                data.append(UInt8(element.value.count))
                data.append(contentsOf: element.value)
            }
        case .generic(let genericProfile, let genericData):
            guard genericData.count % 4 == 0 else {
                throw .invalidHeaderExtension("generic extension data of \(genericData.count) bytes is not a whole number of 32-bit words")
            }
            profile = genericProfile
            data = genericData
        }
        while data.count % 4 != 0 { data.append(0) }
        guard data.count / 4 <= Int(UInt16.max) else {
            throw .fieldOutOfRange(field: "header extension length", value: data.count / 4)
        }
        return (profile, data)
    }
}
