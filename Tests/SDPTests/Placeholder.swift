// Tests for target SDP: to come.
