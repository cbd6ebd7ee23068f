/// An SDES `a=crypto` attribute value (RFC 4568 §9.1):
/// `tag SP crypto-suite SP key-params *(";" key-params) [SP session-params]`.
public struct SDESCryptoAttribute: Sendable, Hashable, CustomStringConvertible {
    /// Identifies this offer among several (1*9DIGIT).
    public var tag: Int
    public var profile: SRTPProfile
    /// One or more keys; several keys come with MKIs (RFC 4568 §6.1).
    public var keyParams: [SDESKeyParams]
    /// Session parameters (`UNENCRYPTED_SRTCP`, `KDR=…`, …), kept as text.
    public var sessionParameters: [String]

    public init(tag: Int, profile: SRTPProfile, keyParams: [SDESKeyParams], sessionParameters: [String] = []) {
        self.tag = tag
        self.profile = profile
        self.keyParams = keyParams
        self.sessionParameters = sessionParameters
    }

    /// Parses the attribute value (without `a=crypto:`). A suite this target cannot run throws `unsupported`.
    public init(parsing text: String) throws {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 3 else { throw SRTPError.invalidKeyParams("expected 'tag suite key-params'") }
        guard fields[0].count <= 9, let tag = Int(fields[0]), tag >= 0 else {
            throw SRTPError.invalidKeyParams("tag '\(fields[0])'")
        }
        guard let profile = SRTPProfile(sdesName: String(fields[1])) else {
            throw SRTPError.unsupported("crypto-suite \(fields[1])")
        }
        let keys = try fields[2].split(separator: ";", omittingEmptySubsequences: false).map {
            try SDESKeyParams(parsing: String($0), profile: profile)
        }
        self.init(tag: tag, profile: profile, keyParams: keys, sessionParameters: fields.dropFirst(3).map(String.init))
    }

    public var formatted: String {
        ([String(tag), profile.sdesName, keyParams.map(\.formatted).joined(separator: ";")] + sessionParameters)
            .joined(separator: " ")
    }

    public var description: String { formatted }
}
