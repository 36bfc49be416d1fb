package httpapi

import (
	"slices"
	"sync"
	"testing"
)

// RecordTranslations records, until the test ends, every message the
// package renders in another language than English. It returns the
// messages rendered from the catalog and those the catalog lacked.
func RecordTranslations(t testing.TB) (found, missing func() []string) {
	var mu sync.Mutex
	seen := map[string]bool{}
	f := func(key string, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		seen[key] = ok
	}
	onTranslate.Store(&f)
	t.Cleanup(func() { onTranslate.Store(nil) })
	list := func(want bool) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for k, ok := range seen {
			if ok == want {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	return func() []string { return list(true) }, func() []string { return list(false) }
}

// CatalogKeys returns the English texts of the catalog's messages.
func CatalogKeys() []string {
	keys := make([]string, 0, len(catalog))
	for k := range catalog {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
