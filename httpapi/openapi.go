package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openapiDoc is the OpenAPI 3.1 description of the routes New registers,
// written by hand; openapi_test.go checks it against the router and the
// handlers' real answers.
//
//go:embed openapi.json
var openapiDoc []byte

// openapiType is the OpenAPI document's registered media type.
const openapiType = "application/vnd.oai.openapi+json"

// schema answers GET /api/schema/ with the OpenAPI document.
func (h *Handler) schema(w http.ResponseWriter, r *http.Request) {
	writeAsset(w, openapiType, openapiDoc)
}

// writeAsset answers 200 with an embedded file (net/http leaves the body
// out for HEAD). The security headers are ServeHTTP's.
func writeAsset(w http.ResponseWriter, ctype string, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
