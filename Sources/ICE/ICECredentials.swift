/// ICE username fragment and password of one side of a stream (RFC 8445 §5.3, RFC 8839 §5.4).
public struct ICECredentials: Sendable, Hashable {
    public var ufrag: String
    public var pwd: String

    public init(ufrag: String, pwd: String) {
        self.ufrag = ufrag
        self.pwd = pwd
    }

    /// Checks the SDP grammar of RFC 8839 §5.4: `ice-ufrag = 4*256ice-char`, `ice-pwd = 22*256ice-char`,
    /// `ice-char = ALPHA / DIGIT / "+" / "/"`.
    public func validate() throws(ICEError) {
        guard (4...256).contains(ufrag.utf8.count), ufrag.utf8.allSatisfy(ICEGrammar.isICEChar) else {
            throw .invalidCredentials("ufrag must be 4 to 256 ice-chars (RFC 8839 §5.4)")
        }
        guard (22...256).contains(pwd.utf8.count), pwd.utf8.allSatisfy(ICEGrammar.isICEChar) else {
            throw .invalidCredentials("pwd must be 22 to 256 ice-chars (RFC 8839 §5.4)")
        }
    }
}

enum ICEGrammar {
    /// `ice-char = ALPHA / DIGIT / "+" / "/"` (RFC 8839 §5.1).
    static func isICEChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
