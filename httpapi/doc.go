// Package httpapi serves jwtrevoke over HTTP with SimpleJWT's routes, JSON
// bodies, status codes and error messages, and provides net/http middleware
// that authenticates Bearer access tokens for any Go API.
//
// Handler mounts every route (/api/token/, /api/token/refresh/, ...);
// Handler.Authenticate and RequireUser protect routes of your own. All
// errors are mapped to HTTP answers in one place (error.go).
package httpapi
