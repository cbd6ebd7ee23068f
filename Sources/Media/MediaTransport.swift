public import ICE

/// The one datagram flow a `MediaSession` runs over: DTLS, SRTP and SRTCP share it (rtcp-mux, RFC 5761;
/// demultiplexed by first byte, RFC 7983), and with BUNDLE (RFC 8843) so do audio and video.
public protocol MediaTransport: AnyObject, Sendable {
    /// Sends one datagram; throws when the path is not up yet (the session counts and drops it).
    func send(_ datagram: [UInt8]) throws
    /// Installs (or removes, with nil) the handler for received datagrams. It may be called on any thread.
    func setReceiveHandler(_ handler: (@Sendable ([UInt8]) -> Void)?)
}

/// One component of one ICE stream as a media transport.
///
/// It installs the agent's single receive handler (`ICEAgent.setReceiveHandler`), so one agent carries one
/// `MediaSession`; with BUNDLE that is every m-line of a call.
public final class ICEMediaTransport: MediaTransport {
    public let agent: ICEAgent
    public let stream: ICEStreamID
    public let component: Int

    public init(agent: ICEAgent, stream: ICEStreamID, component: Int = 1) {
        self.agent = agent
        self.stream = stream
        self.component = component
    }

    public func send(_ datagram: [UInt8]) throws {
        try agent.send(datagram, stream: stream, component: component)
    }

    public func setReceiveHandler(_ handler: (@Sendable ([UInt8]) -> Void)?) {
        guard let handler else {
            agent.setReceiveHandler(nil)
            return
        }
        let stream = stream, component = component
        agent.setReceiveHandler { receivedStream, receivedComponent, bytes in
            guard receivedStream == stream, receivedComponent == component else { return }
            handler(Array(bytes))
        }
    }
}
