// Target ICE: sources to come.
