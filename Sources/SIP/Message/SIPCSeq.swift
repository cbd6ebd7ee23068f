/// CSeq (§20.16): sequence number (< 2^31) and method.
public struct SIPCSeq: Sendable, Hashable, CustomStringConvertible {
    public var number: UInt32
    public var method: SIPMethod

    public init(_ number: UInt32, _ method: SIPMethod) {
        self.number = number
        self.method = method
    }

    public init(_ text: some StringProtocol) throws(SIPParseError) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].count <= 10, parts[0].allSatisfy(\.isASCIIDigit), let number = UInt32(parts[0]), number < 1 << 31,
              parts[1].allSatisfy(\.isSIPTokenCharacter) else {
            throw SIPParseError(.invalidHeaderValue("CSeq"), reason: "Bad CSeq")
        }
        self.number = number
        self.method = SIPMethod(rawValue: String(parts[1]))
    }

    public var description: String { "\(number) \(method.rawValue)" }
}
