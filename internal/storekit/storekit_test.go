package storekit

import (
	"slices"
	"testing"
)

// TestConcat: every page of two parts, of every size (one of them
// missing or empty), is the page of the two concatenated, and first's
// Count is asked only when the page starts past first's end.
func TestConcat(t *testing.T) {
	part := func(rows []int, counted *bool) Part[int] {
		if rows == nil {
			return Part[int]{}
		}
		return Part[int]{
			List: func(limit, offset int) ([]int, error) { return slices.Clone(Page(rows, limit, offset)), nil },
			Count: func() (int, error) {
				*counted = true
				return len(rows), nil
			},
		}
	}
	seq := func(from, n int) []int {
		out := []int{}
		for i := range n {
			out = append(out, from+i)
		}
		return out
	}
	for _, a := range []int{-1, 0, 1, 3, 5} { // -1: no first part
		for _, b := range []int{-1, 0, 2, 4} {
			var first, second []int
			if a >= 0 {
				first = seq(0, a)
			}
			if b >= 0 {
				second = seq(100, b)
			}
			all := append(slices.Clone(first), second...)
			for limit := range 7 {
				for offset := range 11 {
					var counted bool
					got, err := Concat(limit, offset, part(first, &counted), part(second, new(bool)))
					if err != nil {
						t.Fatal(err)
					}
					if want := Page(all, limit, offset); !slices.Equal(got, want) {
						t.Fatalf("parts %v, %v: Concat(limit %d, offset %d) = %v, want %v", first, second, limit, offset, got, want)
					}
					if counted && (offset < len(first) || second == nil) {
						t.Fatalf("parts %v, %v, limit %d, offset %d: first counted though the page starts in it", first, second, limit, offset)
					}
				}
			}
		}
	}
}
