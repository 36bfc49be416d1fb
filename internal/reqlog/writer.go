package reqlog

import (
	"net/http"
	"sync"
)

// StatusWriter is a ResponseWriter that records the status and the size
// of the answer. Middleware that needs them too (metrics) reuses the one
// an outer Middleware made, so that a request is wrapped once.
type StatusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

var writers = sync.Pool{New: func() any { return new(StatusWriter) }}

// Wrap returns a StatusWriter over w, from a pool: call Release once the
// handler it was given to has returned (and nothing holds it any more).
func Wrap(w http.ResponseWriter) *StatusWriter {
	sw := writers.Get().(*StatusWriter)
	sw.ResponseWriter, sw.status, sw.bytes = w, 0, 0
	return sw
}

// Release gives sw back to the pool.
func (sw *StatusWriter) Release() {
	sw.ResponseWriter = nil
	writers.Put(sw)
}

// WriteHeader implements http.ResponseWriter.
func (sw *StatusWriter) WriteHeader(code int) {
	if sw.status == 0 && code >= 200 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (sw *StatusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	n, err := sw.ResponseWriter.Write(b)
	sw.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher when the wrapped writer does.
func (sw *StatusWriter) Flush() {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	if f, ok := sw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (sw *StatusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// Status is the status answered so far: 200 when the handler wrote
// nothing (as net/http then answers).
func (sw *StatusWriter) Status() int {
	if sw.status == 0 {
		return http.StatusOK
	}
	return sw.status
}

// Bytes is the size of the body written so far.
func (sw *StatusWriter) Bytes() int64 { return sw.bytes }
