// Target SRTP: sources to come.
