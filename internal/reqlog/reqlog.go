// Package reqlog gives every HTTP request an id, attaches it to each log
// record made with the request's context, and writes one access log line
// per request.
//
// The id is the request's X-Request-Id when that is safe to repeat (1 to
// MaxIDLen bytes of printable ASCII, no spaces), echoed in the answer's
// X-Request-Id, or a new one, sent back in X-Request-Id only with the
// access log on (the one place it would be found again: an extra header
// costs every answer a few percent of throughput). Handler, a slog.Handler wrapper, adds it
// as request_id to every record logged with the request's context, by any
// package.
//
// The access log holds the method, the path (without the query string,
// token-shaped segments redacted), the status, the size of the answer, the
// duration and the peer address. It never holds a header or a body, so no
// token, password, Authorization header or cookie reaches the logs through
// it.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Header is the request and response header carrying the request id.
const Header = "X-Request-Id"

// MaxIDLen is the longest incoming request id that is reused.
const MaxIDLen = 128

// Key is the log attribute holding the request id.
const Key = "request_id"

type ctxKey struct{}

// WithID returns ctx carrying the request id id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// IDFrom returns the request id ctx carries, or "".
func IDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// ValidID reports whether an incoming request id may be reused: 1 to
// MaxIDLen bytes, each printable ASCII other than the space (so that it
// can neither break a log line nor a header).
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// idPrefix makes generated ids unique across processes; the counter after
// it makes them unique within one. Request ids are labels, not secrets:
// they need not be unpredictable.
var (
	idPrefix  = newPrefix()
	idCounter atomic.Uint64
)

func newPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:]) + "-"
}

// NewID returns a new request id: 12 hex digits drawn once per process, a
// dash and a counter in base 36.
func NewID() string {
	var buf [32]byte
	b := append(buf[:0], idPrefix...)
	b = strconv.AppendUint(b, idCounter.Add(1), 36)
	return string(b)
}

// Handler is a slog.Handler that adds the request id of the record's
// context, when it carries one, as request_id.
type Handler struct {
	inner slog.Handler
}

// NewHandler wraps h; a Handler is returned as it is.
func NewHandler(h slog.Handler) *Handler {
	if rh, ok := h.(*Handler); ok {
		return rh
	}
	return &Handler{inner: h}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := IDFrom(ctx); id != "" {
			r.AddAttrs(slog.String(Key, id))
		}
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{inner: h.inner.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name)}
}

// Logger returns log with its handler wrapped in a Handler.
func Logger(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(*Handler); ok {
		return log
	}
	return slog.New(NewHandler(log.Handler()))
}

// Options configure Middleware.
type Options struct {
	// Logger receives the access log; it is wrapped in a Handler. Nil
	// means slog.Default().
	Logger *slog.Logger
	// AccessLog writes one line per request (at Info, Warn for 5xx
	// answers). Without it, requests only get their id.
	AccessLog bool
}

// Middleware gives every request an id (see the package documentation),
// echoes a given one (and, with AccessLog, a generated one) in the answer
// and, with AccessLog, logs the request once it has been answered.
func Middleware(next http.Handler, opts Options) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = Logger(log)
	access := opts.AccessLog
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given := r.Header[Header]
		var id string
		if len(given) > 0 && ValidID(given[0]) {
			id = given[0]
			w.Header()[Header] = given[:1:1]
		} else {
			id = NewID()
			if access {
				// A generated id goes back to the client only when the
				// access log has it too: a header costs every answer
				// several percent of the server's throughput.
				w.Header()[Header] = []string{id}
			}
		}
		ctx := WithID(r.Context(), id)
		r = r.WithContext(ctx)
		if !access {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := Wrap(w)
		defer sw.Release()
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.Status() >= 500 {
			level = slog.LevelWarn
		}
		if !log.Enabled(ctx, level) {
			return
		}
		log.LogAttrs(ctx, level, "request",
			slog.String("method", r.Method),
			slog.String("path", SafePath(r.URL.Path)),
			slog.Int("status", sw.Status()),
			slog.Int64("bytes", sw.Bytes()),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", peer(r.RemoteAddr)),
		)
	})
}

// peer is the host of a RemoteAddr.
func peer(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr, "]") {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// maxPath is the longest path written to the access log.
const maxPath = 256

// SafePath is p for the log: at most maxPath bytes, and each segment that
// looks like a JWT (three dot-separated parts) replaced by "[redacted]", in
// case a client put a token in a URL. The API's own paths are returned as
// they are, without allocating.
func SafePath(p string) string {
	if strings.Count(p, ".") >= 2 {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if strings.Count(s, ".") >= 2 && len(s) >= 16 {
				segs[i] = "[redacted]"
			}
		}
		p = strings.Join(segs, "/")
	}
	if len(p) > maxPath {
		p = p[:maxPath] + "..."
	}
	return p
}
