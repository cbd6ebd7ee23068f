// Tests for target RTP: to come.
