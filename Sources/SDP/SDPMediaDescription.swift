/// One `m=` section with its `i=`, `c=`, `b=`, `k=` and `a=` lines (RFC 8866 §5.14).
public struct SDPMediaDescription: Hashable, Sendable {
    /// `audio`, `video`, `text`, `application`, `message` or another token.
    public var media: String
    /// Transport port; 0 marks a rejected or disabled stream (RFC 3264 §6, §8.2).
    public var port: UInt16
    /// The `/<number of ports>` suffix of `m=` (RFC 8866 §5.14), when present.
    public var numberOfPorts: UInt16?
    /// `RTP/AVP`, `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, … kept verbatim.
    public var proto: String
    /// The `<fmt>` list: payload type numbers for RTP profiles, `webrtc-datachannel` for data channels.
    public var formats: [String]
    /// `i=` (RFC 8866 §5.4).
    public var information: String?
    /// `c=` lines; several are allowed at media level for layered multicast (RFC 8866 §5.7).
    public var connections: [SDPConnection]
    /// `b=` lines (RFC 8866 §5.8).
    public var bandwidths: [SDPBandwidth]
    /// `k=` (RFC 8866 §5.12).
    public var encryptionKey: String?
    /// `a=` lines in the author's order.
    public var attributes: [SDPAttribute]

    public init(media: String, port: UInt16, numberOfPorts: UInt16? = nil, proto: String, formats: [String],
                information: String? = nil, connections: [SDPConnection] = [], bandwidths: [SDPBandwidth] = [],
                encryptionKey: String? = nil, attributes: [SDPAttribute] = []) {
        self.media = media
        self.port = port
        self.numberOfPorts = numberOfPorts
        self.proto = proto
        self.formats = formats
        self.information = information
        self.connections = connections
        self.bandwidths = bandwidths
        self.encryptionKey = encryptionKey
        self.attributes = attributes
    }
}
