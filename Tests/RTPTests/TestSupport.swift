import RTP

/// Builds byte vectors from hex text with spaces, as they are written out in the tests from the RFC layouts.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd hex digit count in test vector")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else { preconditionFailure("bad hex in test vector") }
        bytes.append(byte)
        index = next
    }
    return bytes
}

/// The case name of an error, for tables that check the kind rather than the message.
func kind(_ error: RTPError) -> String {
    switch error {
    case .truncated: "truncated"
    case .unsupportedVersion: "unsupportedVersion"
    case .invalidPadding: "invalidPadding"
    case .extensionOverrun: "extensionOverrun"
    case .invalidHeaderExtension: "invalidHeaderExtension"
    case .invalidLength: "invalidLength"
    case .paddingNotOnLastPacket: "paddingNotOnLastPacket"
    case .fieldOutOfRange: "fieldOutOfRange"
    case .unsupported: "unsupported"
    }
}

func kind(_ error: WAVError) -> String {
    switch error {
    case .notRIFFWAVE: "notRIFFWAVE"
    case .truncated: "truncated"
    case .missingFormatChunk: "missingFormatChunk"
    case .missingDataChunk: "missingDataChunk"
    case .unsupportedFormat: "unsupportedFormat"
    case .invalidFormat: "invalidFormat"
    case .invalidWrite: "invalidWrite"
    case .io: "io"
    }
}
