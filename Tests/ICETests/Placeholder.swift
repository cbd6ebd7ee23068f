// Tests for target ICE: to come.
