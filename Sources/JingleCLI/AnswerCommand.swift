import ArgumentParser
import Foundation
import Jingle
import JingleEngine
import XMPPCore

/// `jingle answer`: waits for a Jingle RTP call (XEP-0167) and answers it.
struct AnswerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Wait for a Jingle RTP call (XEP-0167) and answer it: ICE-UDP, DTLS-SRTP, G.711 audio.",
        discussion: """
        Over an account (--jid, --password-file, optionally --server HOST:PORT and --ca-file/--insecure) or the \
        serverless link (--listen ADDR:PORT, for a `jingle call --peer`). With --auto the first call is \
        answered; with --from JID only calls from that JID (bare or full) are, others are declined. \
        The caller hears <ringing/> (XEP-0167 §5) as soon as the session-initiate arrives.

        Exit status: 0 if media flowed both ways, 1 otherwise (with a one-line reason), 64 on a usage error.

        Examples:
          jingle answer --auto --listen 127.0.0.1:5299 --audio tone:880 --record heard.wav --bind 127.0.0.1
          jingle answer --from alice@localhost --jid bob@localhost --password-file pw --server 127.0.0.1:5222 --ca-file ca.pem
        """
    )

    @Flag(help: "Answer the first call.")
    var auto = false
    @Option(help: ArgumentHelp("Answer only calls from this JID (bare or full).", valueName: "JID"))
    var from: String?
    @OptionGroup var link: LinkOptions
    @OptionGroup var media: CallMediaOptions

    func validate() throws {
        guard auto != (from != nil) else { throw ValidationError("give exactly one of --auto or --from JID") }
        if let from { do { _ = try JID(from) } catch { throw ValidationError("--from: '\(from)' is not a JID") } }
        try link.validate(listening: true)
        try media.validate()
    }

    func run() async throws {
        let reporter = CallReporter(json: media.json)
        let accepted = try from.map { try JID($0) }
        let (engine, close) = try await link.open(reporter: reporter, remote: nil)
        reporter.state("waiting", "waiting for a call")
        // Over an account, calls to our bare JID are proposed first (XEP-0353): proceed on the one we take.
        var initiation: MessageInitiation?
        if link.listen == nil {
            let jmi = MessageInitiation(link: engine.link)
            await jmi.start()
            initiation = jmi
            Task {
                for await proposal in jmi.proposals {
                    if let accepted, !(accepted.resourcepart == nil ? proposal.from.bare == accepted.bare : proposal.from == accepted) {
                        try? await jmi.send(.reject, id: proposal.message.id, to: proposal.from, reason: JingleReason(.decline))
                        continue
                    }
                    reporter.state("ringing", "proposal from \(proposal.from) (XEP-0353); proceeding")
                    // The caller learns that a device rings (XEP-0353 <ringing/>), then which one takes it.
                    try? await jmi.send(.ringing, id: proposal.message.id, to: proposal.from)
                    try? await jmi.send(.proceed, id: proposal.message.id, to: proposal.from)
                    break
                }
            }
        }
        let deadline = ContinuousClock.now + (try media.waitLimit())
        let waiter = Task { () -> IncomingJingleSession? in
            for await incoming in engine.incomingSessions {
                if let accepted, !(accepted.resourcepart == nil ? incoming.id.peer.bare == accepted.bare : incoming.id.peer == accepted) {
                    try? await engine.terminate(incoming.id, reason: JingleReason(.decline))
                    continue
                }
                return incoming
            }
            return nil
        }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            waiter.cancel()
        }
        let incoming = await withTaskCancellationHandler { await waiter.value } onCancel: { waiter.cancel() }
        timer.cancel()
        guard let incoming else {
            await initiation?.stop()
            await close()
            throw CLIError("no call arrived within \(media.wait)")
        }
        reporter.state("incoming", "call from \(incoming.id.peer)")
        let call: JingleCall
        do {
            call = try await JingleCall.answer(engine: engine, incoming: incoming, options: try media.callOptions())
        } catch {
            await close()
            throw CLIError("answering failed: \(error)")
        }
        let started = initiation
        try await CallSupport.run(call, reporter: reporter, duration: try media.mediaDuration(), wait: try media.waitLimit(), close: {
            await started?.stop()
            await close()
        })
    }
}
