internal import CNice

/// The libnice calls behind `ICEAgent`'s methods. Each runs on the agent's loop thread, with a stream
/// id already checked against the agent's streams.
enum NiceOperations {
    static func id(_ stream: ICEStreamID) -> UInt32 { UInt32(truncatingIfNeeded: stream.rawValue) }

    static func localCredentials(_ a: OpaquePointer, _ stream: ICEStreamID) throws(ICEError) -> ICECredentials {
        var ufrag: UnsafeMutablePointer<CChar>?
        var pwd: UnsafeMutablePointer<CChar>?
        defer {
            g_free(ufrag)
            g_free(pwd)
        }
        guard nice_agent_get_local_credentials(a, id(stream), &ufrag, &pwd) != 0, let ufrag, let pwd else {
            throw .operationFailed("nice_agent_get_local_credentials")
        }
        return ICECredentials(ufrag: String(cString: ufrag), pwd: String(cString: pwd))
    }

    static func gather(_ a: OpaquePointer, _ stream: ICEStreamID) throws(ICEError) {
        guard nice_agent_gather_candidates(a, id(stream)) != 0 else {
            throw .gatheringFailed(stream: stream.rawValue)
        }
    }

    static func localCandidates(_ a: OpaquePointer, _ stream: ICEStreamID, _ component: Int) -> [ICECandidate] {
        let list = nice_agent_get_local_candidates(a, id(stream), UInt32(component))
        defer { sj_nice_candidate_list_free(list) }
        var result: [ICECandidate] = []
        var node = list
        while let n = node {
            if let data = n.pointee.data {
                result.append(NiceConversion.candidate(data.assumingMemoryBound(to: NiceCandidate.self)))
            }
            node = n.pointee.next
        }
        return result
    }

    static func setRemoteCredentials(_ a: OpaquePointer, _ stream: ICEStreamID, _ c: ICECredentials) throws(ICEError) {
        guard nice_agent_set_remote_credentials(a, id(stream), c.ufrag, c.pwd) != 0 else {
            throw .operationFailed("nice_agent_set_remote_credentials")
        }
    }

    static func addRemoteCandidates(_ a: OpaquePointer, _ stream: ICEStreamID, _ candidates: [ICECandidate]) throws(ICEError) {
        // Convert everything first so a bad candidate leaves the agent untouched.
        var byComponent: [Int: UnsafeMutablePointer<GSList>?] = [:]
        defer { for list in byComponent.values { sj_nice_candidate_list_free(list) } }
        for c in candidates {
            let n = try NiceConversion.niceCandidate(c, stream: id(stream))
            let list = byComponent[c.component] ?? nil
            byComponent[c.component] = g_slist_append(list, n)
        }
        for (component, list) in byComponent.sorted(by: { $0.key < $1.key }) {
            let added = nice_agent_set_remote_candidates(a, id(stream), UInt32(component), list)
            guard added >= 0 else { throw .operationFailed("nice_agent_set_remote_candidates") }
        }
    }

    static func peerGatheringDone(_ a: OpaquePointer, _ stream: ICEStreamID) throws(ICEError) {
        guard nice_agent_peer_candidate_gathering_done(a, id(stream)) != 0 else {
            throw .operationFailed("nice_agent_peer_candidate_gathering_done")
        }
    }

    static func restart(_ a: OpaquePointer, _ stream: ICEStreamID, _ credentials: ICECredentials?) throws(ICEError) -> ICECredentials {
        guard nice_agent_restart_stream(a, id(stream)) != 0 else {
            throw .operationFailed("nice_agent_restart_stream")
        }
        if let credentials {
            guard nice_agent_set_local_credentials(a, id(stream), credentials.ufrag, credentials.pwd) != 0 else {
                throw .operationFailed("nice_agent_set_local_credentials")
            }
        }
        return try localCredentials(a, stream)
    }

    static func selectedPair(_ a: OpaquePointer, _ stream: ICEStreamID, _ component: Int) -> ICECandidatePair? {
        // libnice hands out its own candidates here (not copies): convert, never free.
        var local: UnsafeMutablePointer<NiceCandidate>?
        var remote: UnsafeMutablePointer<NiceCandidate>?
        guard nice_agent_get_selected_pair(a, id(stream), UInt32(component), &local, &remote) != 0,
              let local, let remote else { return nil }
        return ICECandidatePair(local: NiceConversion.candidate(local), remote: NiceConversion.candidate(remote))
    }

    static func state(_ a: OpaquePointer, _ stream: ICEStreamID, _ component: Int) -> ICEState {
        NiceConversion.state(nice_agent_get_component_state(a, id(stream), UInt32(component)).rawValue)
    }
}
