// Target SDP: sources to come.
