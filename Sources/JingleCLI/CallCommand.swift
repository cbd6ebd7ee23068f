import ArgumentParser
import Foundation
import Jingle
import JingleEngine
import Media
import XMPPCore
import XMPPLink

/// `jingle call`: places a Jingle RTP audio call (XEP-0167) over an XMPP account or a serverless peer link.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a JID with Jingle RTP (XEP-0167): ICE-UDP, DTLS-SRTP, G.711 audio.",
        discussion: """
        Over an account (--jid, --password-file, optionally --server HOST:PORT and --ca-file/--insecure), JID \
        may be bare: the call is proposed with Jingle Message Initiation (XEP-0353) and placed to the device \
        that proceeds; or full (user@domain/resource). Over the serverless link (--peer ADDR:PORT, a stream to \
        a `jingle answer --listen`), JID must be the peer's full JID.

        State changes (ringing, accepted, ICE connected, connected, media flowing) and per-second statistics \
        go to standard error (as JSON lines on standard output with --json), then a summary.

        Exit status: 0 if media flowed both ways, 1 otherwise (with a one-line reason), 64 on a usage error.

        Examples:
          jingle call bob@localhost --jid alice@localhost --password-file pw --server 127.0.0.1:5222 --insecure
          jingle call bob@localhost/phone --jid alice@localhost --password-file pw --server 127.0.0.1:5222 --ca-file ca.pem
          jingle call bob@localhost/sj --peer 127.0.0.1:5299 --audio tone:440 --record heard.wav --duration 5s --bind 127.0.0.1
          jingle call bob@localhost/sj --peer 127.0.0.1:5299 --audio wav:music.wav --json
        """
    )

    @Argument(help: ArgumentHelp("Whom to call: a full JID, or a bare JID (XEP-0353 propose).", valueName: "JID"))
    var peer: String
    @OptionGroup var link: LinkOptions
    @OptionGroup var media: CallMediaOptions

    func validate() throws {
        try link.validate(listening: false)
        try media.validate()
        let jid: JID
        do { jid = try JID(peer) } catch { throw ValidationError("'\(peer)' is not a JID: \(error)") }
        if jid.resourcepart == nil, link.peer != nil {
            throw ValidationError("over the serverless link give the peer's full JID; a bare JID (XEP-0353 propose) needs an account")
        }
    }

    func run() async throws {
        let reporter = CallReporter(json: media.json)
        let target = try JID(peer)
        let (engine, close) = try await link.open(reporter: reporter, remote: target)
        if target.isBare {
            // XEP-0353: every device of the callee rings; the one that proceeds gets the session-initiate.
            let initiation = MessageInitiation(link: engine.link)
            await initiation.start()
            reporter.state("proposing", "proposing a call to \(target) (XEP-0353)")
            let call: JingleCall
            do {
                call = try await JingleCall.place(engine: engine, initiation: initiation, toBare: target, options: try media.callOptions(),
                                                  timeout: try media.waitLimit(),
                                                  ringing: { device in reporter.state("ringing", "\(device) is ringing") })
            } catch {
                await close()
                throw CLIError("call failed: \(error)")
            }
            reporter.state("proceeding", "\(call.id.peer) proceeded")
            try await CallSupport.run(call, reporter: reporter, duration: try media.mediaDuration(), wait: try media.waitLimit(), close: {
                try? await initiation.send(.finish, id: await call.proposalID ?? call.id.sid, to: call.id.peer, reason: JingleReason(.success))
                await initiation.stop()
                await close()
            })
            return
        }
        // XEP-0030: ask the callee what it supports before the session-initiate; on the serverless link this
        // also waits until the other side's Jingle handler is in place.
        try await Self.waitForJingleRTP(engine: engine, peer: target, limit: try media.waitLimit(), close: close)
        reporter.state("calling", "calling \(target)")
        let call: JingleCall
        do {
            call = try await JingleCall.place(engine: engine, to: target, options: try media.callOptions())
        } catch {
            await close()
            throw CLIError("call failed: \(error)")
        }
        try await CallSupport.run(call, reporter: reporter, duration: try media.mediaDuration(), wait: try media.waitLimit(), close: close)
    }
}

extension CallCommand {
    static func waitForJingleRTP(engine: JingleEngine, peer: JID, limit: Duration, close: @Sendable () async -> Void) async throws {
        let deadline = ContinuousClock.now + limit
        var last = "no answer"
        while ContinuousClock.now < deadline {
            do {
                let info = try await engine.link.discoInfo(of: peer)
                if info.features.contains(NS.jingleRTP) { return }
                last = "it does not advertise \(NS.jingleRTP)"
            } catch {
                last = "\(error)"
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await close()
        throw CLIError("\(peer) cannot take a Jingle RTP call: \(last)", hint: "is `jingle answer` (or another Jingle client) running there?")
    }
}

/// `jingle call` and `jingle answer` over the shared `LinkOptions`: the caller connects (--peer), the callee
/// waits (--listen); either may use an account instead.
extension LinkOptions {
    func validate(listening: Bool) throws {
        let other = listening ? peer : listen
        if other != nil {
            throw ValidationError(listening ? "jingle answer takes --listen, not --peer" : "jingle call takes --peer, not --listen")
        }
        if peerJID != nil { throw ValidationError("--peer-jid is for jingle send; a call names the peer as its JID argument") }
        if !isServerless && !account.isGiven {
            throw ValidationError("give an account (--jid and --password-file) or a serverless link (\(listening ? "--listen" : "--peer") ADDR:PORT)")
        }
        try validate(defaultLocal: "", serverless: listening ? "--listen" : "--peer")
    }

    /// Connects and starts a Jingle engine; returns it with a closure that stops it and closes the link.
    func open(reporter: CallReporter, remote: JID?) async throws -> (JingleEngine, @Sendable () async -> Void) {
        let opened = try await open(defaultLocal: peer != nil ? "caller@localhost/jingle" : "callee@localhost/jingle", remote: remote,
                                    peerHint: "is `jingle answer --listen \(peer ?? "")` running?",
                                    announce: { reporter.state("listening", $0) })
        if opened.viaServer { reporter.state("online", "logged in as \(opened.local)") } else { reporter.state("linked", "peer link up") }
        let engine = JingleEngine(link: opened.link, localJID: opened.local)
        await engine.start()
        await engine.advertise(JingleCall.features)
        let close = opened.close
        return (engine, { await engine.stop(); await close() })
    }
}

/// What to send and record, and for how long.
struct CallMediaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("What to send: tone:FREQ or wav:FILE.", valueName: "SOURCE"))
    var audio = "tone:440"
    @Option(help: ArgumentHelp("Record received audio (8 kHz mono WAV).", valueName: "OUT.wav"))
    var record: String?
    @Option(help: ArgumentHelp("How long media runs once connected: 10s, 500ms, 2m.", valueName: "TIME"))
    var duration = "10s"
    @Option(help: ArgumentHelp("How long to wait for the peer (answer, ICE, DTLS).", valueName: "TIME"))
    var wait = "30s"
    @Option(help: ArgumentHelp("Local addresses for host candidates (repeat or comma-separate); default every interface.", valueName: "ADDR"))
    var bind: [String] = []
    @Option(help: ArgumentHelp("Offer/accept video relayed between the call and local UDP ports (IN,OUT).", valueName: "udp://H:P,udp://H:P"))
    var video: String?
    @Flag(help: "State changes and per-second statistics as JSON lines on standard output.")
    var json = false

    func validate() throws {
        _ = try mediaDuration()
        _ = try waitLimit()
        do {
            _ = try AudioSource(parsing: audio)
            _ = try videoEndpoints()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func mediaDuration() throws -> Duration { try SDPCallCommand.parseDuration(duration, option: "--duration") }
    func waitLimit() throws -> Duration { try SDPCallCommand.parseDuration(wait, option: "--wait") }

    func videoEndpoints() throws -> (UDPEndpoint, UDPEndpoint)? {
        guard let video else { return nil }
        let parts = video.split(separator: ",").map(String.init)
        guard parts.count == 2 else { throw MediaError.invalidConfiguration("--video wants udp://HOST:PORT,udp://HOST:PORT (input, output)") }
        return (try UDPEndpoint(url: parts[0]), try UDPEndpoint(url: parts[1]))
    }

    func callOptions() throws -> CallOptions {
        var options = CallOptions(audioSource: try AudioSource(parsing: audio), recordURL: record.map { URL(fileURLWithPath: $0) },
                                  bindAddresses: bind.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } },
                                  connectTimeout: try waitLimit())
        if let (input, output) = try videoEndpoints() {
            options.video = true
            options.videoInput = input
            options.videoOutput = output
        }
        return options
    }
}

/// The part of `call` and `answer` after the session exists: report, wait, hang up, judge.
enum CallSupport {
    static func run(_ call: JingleCall, reporter: CallReporter, duration: Duration, wait: Duration,
                    close: @escaping @Sendable () async -> Void) async throws {
        let state = CallState()
        let events = call.events
        let watcher = Task {
            for await event in events {
                report(event, reporter)
                await state.note(event)
            }
        }
        let connected = await state.wait(until: wait, forMedia: true)
        if connected, await state.ended == nil {
            _ = await state.wait(until: duration, forMedia: false)
        }
        let endedByPeer = await state.ended
        let statistics = await call.hangUp()
        _ = await watcher.value
        await close()
        reporter.summary(statistics, codec: "G.711")
        // The peer hanging up normally (success) after media flowed is a good call; any other reason is not.
        if let (reason, byPeer) = endedByPeer, reason?.condition != .success {
            throw CLIError("call ended\(byPeer ? " by the peer" : ""): \(reason?.condition.rawValue ?? "no reason")\(reason?.text.map { " (\($0))" } ?? "")")
        }
        if !connected { throw CLIError("no media within \(wait)", hint: "is the peer answering? try --bind 127.0.0.1 on both sides") }
        guard statistics.packetsSent > 0, statistics.packetsReceived > 0 else {
            throw CLIError("media did not flow both ways (sent \(statistics.packetsSent), received and decrypted \(statistics.packetsReceived))")
        }
    }

    static func report(_ event: CallEvent, _ reporter: CallReporter) {
        switch event {
        case .ringing: reporter.state("ringing", "ringing")
        case .accepted: reporter.state("accepted", "call accepted")
        case .iceConnected(let local, let remote): reporter.state("ice-connected", "ICE connected \(local) <-> \(remote)")
        case .connected: reporter.event(.connected)
        case .mediaFlowing: reporter.event(.mediaFlowing)
        case .stats(let stats): reporter.event(.stats(stats))
        case .peerInfo(let info): reporter.state("peer-info", "peer: \(info.element().name)")
        case .contentRejected(let names): reporter.state("content-rejected", "peer refused contents \(names.joined(separator: ", "))")
        case .ended(let reason, let byPeer):
            reporter.state("ended", "call ended\(byPeer ? " by the peer" : ""): \(reason?.condition.rawValue ?? "no reason")")
        }
    }
}

/// What the call reported so far.
actor CallState {
    var mediaFlowing = false
    var ended: (JingleReason?, Bool)?

    func note(_ event: CallEvent) {
        switch event {
        case .mediaFlowing: mediaFlowing = true
        case .ended(let reason, let byPeer): ended = (reason, byPeer)
        default: break
        }
    }

    /// Waits up to `timeout` for media to flow or the call to end (`forMedia`), or for the end only;
    /// returns whether it happened.
    func wait(until timeout: Duration, forMedia: Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !((forMedia && mediaFlowing) || ended != nil) {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
