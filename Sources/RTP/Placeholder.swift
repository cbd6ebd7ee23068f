// Target RTP: sources to come.
