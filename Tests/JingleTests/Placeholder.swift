// Tests for target Jingle: to come.
