package denylist

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// refKey is hexKey written plainly: byte 2i+w of each half holds digits
// 8w+2i (low nibble) and 8w+2i+1 of its 16 digits.
func refKey(id string) (hi, lo uint64, ok bool) {
	if len(id) != 32 {
		return 0, 0, false
	}
	var n [32]uint64
	for i := range 32 {
		c := id[i]
		switch {
		case '0' <= c && c <= '9':
			n[i] = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			n[i] = uint64(c-'a') + 10
		default:
			return 0, 0, false
		}
	}
	half := func(d []uint64) uint64 {
		var v uint64
		for w := range 2 {
			for i := range 4 {
				v |= (d[8*w+2*i] | d[8*w+2*i+1]<<4) << (8 * (2*i + w))
			}
		}
		return v
	}
	return half(n[:16]), half(n[16:]), true
}

// keyString inverts refKey's layout.
func keyString(hi, lo uint64) string {
	var b strings.Builder
	for _, v := range []uint64{hi, lo} {
		for w := range 2 {
			for i := range 4 {
				x := v >> (8 * (2*i + w))
				b.WriteByte("0123456789abcdef"[x&15])
				b.WriteByte("0123456789abcdef"[x>>4&15])
			}
		}
	}
	return b.String()
}

func checkKey(t *testing.T, id string) {
	t.Helper()
	hi, lo, ok := hexKey(id)
	rhi, rlo, rok := refKey(id)
	if ok != rok || hi != rhi || lo != rlo {
		t.Fatalf("hexKey(%q) = %x, %x, %v; want %x, %x, %v", id, hi, lo, ok, rhi, rlo, rok)
	}
	if ok {
		if back := keyString(hi, lo); back != id {
			t.Fatalf("hexKey(%q) reads back as %q", id, back)
		}
	}
}

func TestHexKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var b [16]byte
	for n := range 2000 {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		id := hex.EncodeToString(b[:])
		checkKey(t, id)
		if n >= 20 {
			continue
		}
		// Every byte value at every position: only '0'-'9' and 'a'-'f' keep
		// it hex, and each gives its own key.
		for pos := range 32 {
			for c := range 256 {
				checkKey(t, id[:pos]+string([]byte{byte(c)})+id[pos+1:])
			}
		}
	}
	for _, id := range []string{
		"", "0", strings.Repeat("0", 31), strings.Repeat("0", 33),
		strings.Repeat("0", 32), strings.Repeat("f", 32), strings.Repeat("F", 32),
		"018F3A2B4C5D7ABC8DEF0123456789AB", "018f3a2b4c5d7abc8def0123456789aB",
		"simplejwt:42:1700000000", "0123456789abcdef0123456789abcdeg",
		"0123456789abcdef0123456789abcd/f", "0123456789abcdef0123456789abcd:f",
		"0123456789abcdef0123456789abcd`f", "0123456789abcdef0123456789abcd\xe9f",
		"0123456789abcdef\x800123456789abcde",
	} {
		checkKey(t, id)
	}
}

func FuzzHexKey(f *testing.F) {
	f.Add("018f3a2b4c5d7abc8def0123456789ab")
	f.Add("018F3A2B4C5D7ABC8DEF0123456789AB")
	f.Fuzz(func(t *testing.T, id string) { checkKey(t, id) })
}
