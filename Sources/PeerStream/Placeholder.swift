// Target PeerStream: sources to come.
