// Target Jingle: sources to come.
