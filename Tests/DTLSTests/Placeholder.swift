// Tests for target DTLS: to come.
