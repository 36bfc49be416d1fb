package httpapi

import "testing"

// TestWords: the Authorization header is split as SimpleJWT splits it
// (Python's bytes.split(): runs of ASCII whitespace only).
func TestWords(t *testing.T) {
	for _, c := range []struct {
		in            string
		first, second string
		n             int
	}{
		{"", "", "", 0},
		{" \t ", "", "", 0},
		{"Bearer", "Bearer", "", 1},
		{"Bearer abc", "Bearer", "abc", 2},
		{"  Bearer \t\r\n abc \x0b\x0c", "Bearer", "abc", 2},
		{"Bearer a b", "Bearer", "a", 3},
		{"Bearer a b c d", "Bearer", "a", 3},
		// Not ASCII whitespace: NEL and NBSP in UTF-8, NUL.
		{"Bearer\u0085abc", "Bearer\u0085abc", "", 1},
		{"Bearer\u00a0abc", "Bearer\u00a0abc", "", 1},
		{"Bearer a\x00b", "Bearer", "a\x00b", 2},
	} {
		first, second, n := words(c.in)
		if first != c.first || second != c.second || n != c.n {
			t.Errorf("words(%q) = %q, %q, %d; want %q, %q, %d", c.in, first, second, n, c.first, c.second, c.n)
		}
	}
}
