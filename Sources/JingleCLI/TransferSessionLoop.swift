import ArgumentParser
import Foundation
import JingleEngine
import Synchronization
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// Handles incoming Jingle sessions until SIGINT/SIGTERM (or after the first with `once`): the loop behind
/// `jingle receive --keep-listening` and `jingle send --serve`.
///
/// On the serverless link (`--listen`) every connection is accepted as it comes and served concurrently,
/// its sessions one after another, until the peer closes it. With an account or `--peer`, the one link is
/// served until it closes. The result is true when nothing was lost: every session succeeded and none was
/// still running when the signal came.
enum TransferSessionLoop {
    typealias Handler = @Sendable (JingleEngine, IncomingJingleSession) async -> Bool

    final class Tally: Sendable {
        let state = Mutex<(active: Int, ok: Int, failed: Int)>((0, 0, 0))
        func begin() { state.withLock { $0.active += 1 } }
        func end(_ ok: Bool) { state.withLock { $0.active -= 1; if ok { $0.ok += 1 } else { $0.failed += 1 } } }
    }

    final class Tasks: Sendable {
        let list = Mutex<[Task<Void, Never>]>([])
        func add(_ task: Task<Void, Never>) { list.withLock { $0.append(task) } }
        func cancelAll() { for task in list.withLock({ $0 }) { task.cancel() } }
    }

    enum Stop: Sendable { case signal(Int32), finished }

    static func run(link: LinkOptions, command: String, once: Bool, handler: @escaping Handler) async throws -> Bool {
        let (stops, stop) = AsyncStream.makeStream(of: Stop.self)
        for sig in [SIGINT, SIGTERM] { signal(sig, SIG_IGN) }
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.yield(.signal(sig)) }
            source.resume()
            sources.append(source)
        }
        defer { for s in sources { s.cancel() } }
        let tally = Tally()
        let connections = Tasks()

        /// Serves one link until it closes (or, with `once`, until its first session is over).
        @Sendable func serve(_ session: any XMPPSession, local: JID) async {
            let engine = JingleEngine(link: session, localJID: local)
            await engine.start()
            await engine.advertise(FileTransferOptions.features)
            // The link's stanza stream ends when the link does; then no further session can come on it.
            let watcher = Task {
                for await _ in session.stanzas {}
                await engine.stop()
            }
            for await incoming in engine.incomingSessions {
                tally.begin()
                let ok = await handler(engine, incoming)
                tally.end(ok)
                if once { stop.yield(.finished); break }
            }
            watcher.cancel()
            try? await Task.sleep(for: .milliseconds(200))   // let a last session-terminate leave
            await engine.stop()
            await session.close()
        }

        var listener: XMPPPeerListener?
        if let listen = link.listen {
            let address = try HostPort(listen, option: "--listen", anyPort: true)
            let local = try JID(link.jid ?? "receiver@localhost/jingle")
            let opened = try await XMPPPeerLink.listen(local: local, host: address.host, port: address.port)
            listener = opened
            FileHandle.standardError.write(Data("\(command): listening on \(address.host):\(opened.port) as \(local)\n".utf8))
            let acceptor = Task {
                while !Task.isCancelled {
                    let peerLink: XMPPPeerLink
                    do { peerLink = try await opened.accept() } catch {
                        // A connection that never became a peer link (a port probe): wait for the next one.
                        if Task.isCancelled { break }
                        try? await Task.sleep(for: .milliseconds(20))
                        continue
                    }
                    let task = Task { await serve(peerLink, local: local) }
                    connections.add(task)
                }
            }
            connections.add(acceptor)
        } else {
            let session = try await link.open(role: .responder)
            if link.peer == nil {
                FileHandle.standardError.write(Data("\(command): logged in as \(session.local), waiting for sessions\n".utf8))
            }
            let task = Task {
                await serve(session.link, local: session.local)
                stop.yield(.finished)   // the only link is gone
            }
            connections.add(task)
        }

        var interrupted = false
        for await reason in stops {
            if case .signal = reason { interrupted = true }
            break
        }
        listener?.close()
        if !interrupted { try? await Task.sleep(for: .milliseconds(200)) }   // a last session-terminate
        let (active, ok, failed) = tally.state.withLock { ($0.active, $0.ok, $0.failed) }
        if !interrupted || active == 0 {
            connections.cancelAll()
        }
        var summary = "\(command): \(ok + failed) session\(ok + failed == 1 ? "" : "s"), \(ok) ok, \(failed) failed"
        if interrupted && active > 0 { summary += "; interrupted during \(active) (incomplete, kept as .part where received)" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        return failed == 0 && !(interrupted && active > 0)
    }
}
