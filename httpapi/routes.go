package httpapi

import (
	"path"
	"slices"
	"strings"
)

// routeTable lists every route h serves, for the OpenAPI document's test:
// each path as documented, with its trailing slash (but for file names,
// such as /.well-known/jwks.json, which are written without one; ServeHTTP
// answers either way), mapped to the methods it answers, HEAD and OPTIONS
// included, in the order of its Allow header.
func (h *Handler) routeTable() map[string][]string {
	out := make(map[string][]string, len(h.routes))
	for p, rt := range h.routes {
		if !strings.Contains(path.Base(p), ".") {
			p += "/"
		}
		out[p] = slices.Collect(strings.SplitSeq(rt.allow[0], ", "))
	}
	return out
}
