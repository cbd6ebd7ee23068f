// Tests for target SRTP: to come.
