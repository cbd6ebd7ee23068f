// Target JingleSDP: sources to come.
