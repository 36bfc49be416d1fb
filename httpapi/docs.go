package httpapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// The documentation page at /api/docs/: an HTML list of the operations of
// openapi.json, rendered on the server (readable without JavaScript), and
// a script of its own that loads /api/schema/ and adds each operation's
// parameters, bodies and responses and a form to try it out. Nothing is
// loaded from another host.

//go:embed docs/index.html docs/docs.js docs/docs.css
var docsFS embed.FS

// docsCSP replaces the API's Content-Security-Policy on the page: its own
// script and style sheet, and requests to the API, and nothing else (no
// inline script or style).
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var docsCSPValue = []string{docsCSP}

// docsPage is the rendered page, made once.
var docsPage = sync.OnceValues(renderDocs)

// docs answers GET /api/docs/ with the documentation page.
func (h *Handler) docs(w http.ResponseWriter, r *http.Request) {
	page, err := docsPage()
	if err != nil {
		h.log.ErrorContext(r.Context(), "docs page", "err", err)
		writeJSON(w, http.StatusInternalServerError, detail("A server error occurred."))
		return
	}
	w.Header()["Content-Security-Policy"] = docsCSPValue
	writeAsset(w, "text/html; charset=utf-8", page)
}

// docsAsset serves one embedded file of the page.
func docsAsset(name, ctype string) http.HandlerFunc {
	body, err := docsFS.ReadFile("docs/" + name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return func(w http.ResponseWriter, r *http.Request) { writeAsset(w, ctype, body) }
}

// docOperation is one operation of the document, as the page lists it.
type docOperation struct {
	ID, Method, Path, Summary, Description string
	Secured                                bool
	Statuses                               []string
}

// docTag is a group of operations.
type docTag struct {
	Name, Description string
	Operations        []docOperation
}

type docData struct {
	Title, Version, Summary string
	Description             []string // paragraphs
	Tags                    []docTag
}

// methodsInOrder are the operation fields of a path item, in the order the
// page lists them.
var methodsInOrder = []string{"get", "head", "post", "put", "patch", "delete", "options"}

func renderDocs() ([]byte, error) {
	data, err := docsData(openapiDoc)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.ParseFS(docsFS, "docs/index.html")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// docsData reads what the page lists from the document: its operations,
// grouped by their first tag in the order of the document's tags, each
// group in the order of the paths.
func docsData(doc []byte) (*docData, error) {
	var d struct {
		Info struct {
			Title, Version, Summary, Description string
		}
		Tags []struct{ Name, Description string }
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	paths, err := orderedPaths(doc)
	if err != nil {
		return nil, err
	}
	out := &docData{Title: d.Info.Title, Version: d.Info.Version, Summary: d.Info.Summary}
	for p := range strings.SplitSeq(d.Info.Description, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out.Description = append(out.Description, p)
		}
	}
	byTag := map[string]int{}
	for _, t := range d.Tags {
		byTag[t.Name] = len(out.Tags)
		out.Tags = append(out.Tags, docTag{Name: t.Name, Description: t.Description})
	}
	for _, p := range paths {
		var item map[string]json.RawMessage
		if err := json.Unmarshal(p.item, &item); err != nil {
			return nil, fmt.Errorf("openapi.json: path %s: %w", p.path, err)
		}
		for _, m := range methodsInOrder {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var op struct {
				OperationID, Summary, Description string
				Tags                              []string
				Security                          []map[string][]string
				Responses                         map[string]json.RawMessage
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi.json: %s %s: %w", m, p.path, err)
			}
			o := docOperation{ID: op.OperationID, Method: strings.ToUpper(m), Path: p.path,
				Summary: op.Summary, Description: op.Description, Secured: len(op.Security) > 0}
			for code := range op.Responses {
				o.Statuses = append(o.Statuses, code)
			}
			slices.Sort(o.Statuses)
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			i, ok := byTag[tag]
			if !ok {
				i = len(out.Tags)
				byTag[tag] = i
				out.Tags = append(out.Tags, docTag{Name: tag})
			}
			out.Tags[i].Operations = append(out.Tags[i].Operations, o)
		}
	}
	return out, nil
}

type pathItem struct {
	path string
	item json.RawMessage
}

// orderedPaths returns the members of the document's "paths" object in
// document order, which encoding/json's maps would lose.
func orderedPaths(doc []byte) ([]pathItem, error) {
	var top struct{ Paths json.RawMessage }
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(top.Paths))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("openapi.json: paths is not an object")
	}
	var out []pathItem
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return nil, err
		}
		out = append(out, pathItem{tok.(string), item})
	}
	return out, nil
}
