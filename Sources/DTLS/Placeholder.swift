// Target DTLS: sources to come.
