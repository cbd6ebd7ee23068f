// Tests for target JingleSDP: to come.
