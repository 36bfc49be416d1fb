package httpapi

import (
	"strings"
	"testing"
)

// FuzzWords compares words, which scans eight bytes at a time, with the
// plain definition: Python's bytes.split(), fields separated by runs of
// its six whitespace bytes.
func FuzzWords(f *testing.F) {
	for _, s := range []string{"", "Bearer abc.def.ghi", "  Bearer\tabc \v x", "Bearer\x00abc\x1f def",
		"Bearer " + strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 13), "a\fb\rc\nd", "\x80\xff \x20\x21", "12345678 12345678\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields := splitBytes(s)
		first, second, n := words(s)
		want := min(len(fields), 3)
		if n != want {
			t.Fatalf("words(%q): n = %d, want %d (%q)", s, n, want, fields)
		}
		if n > 0 && first != fields[0] || n > 1 && second != fields[1] {
			t.Fatalf("words(%q) = %q, %q, want %q", s, first, second, fields)
		}
	})
}

// splitBytes is bytes.split() of Python, byte by byte.
func splitBytes(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); i++ {
		if asciiSpace(s[i]) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func BenchmarkWords(b *testing.B) {
	s := "Bearer " + strings.Repeat("eyJhbGciOiJIUzI1NiJ9", 13)
	for b.Loop() {
		words(s)
	}
}
