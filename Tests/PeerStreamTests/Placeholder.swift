// Tests for target PeerStream: to come.
