// Package httpapi holds the HTTP plumbing the API families share: request
// decoding with limits, client IP resolution, bearer extraction, middleware
// and metrics.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxBodyBytes is the largest request body any family accepts.
const MaxBodyBytes = 64 << 10

// RequestError is a request the server refuses before any business logic:
// wrong content type (415), too large (413), or malformed (400).
type RequestError struct {
	Status  int
	Message string
}

func (e *RequestError) Error() string { return e.Message }

// DecodeJSON decodes a JSON object body into dst. It requires
// Content-Type application/json, refuses bodies over MaxBodyBytes, unknown
// trailing data, and anything but a single JSON object.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if !HasContentType(r, "application/json") {
		return &RequestError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &RequestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes)}
		}
		if errors.Is(err, io.EOF) {
			return &RequestError{http.StatusBadRequest, "the body must be a JSON object"}
		}
		return &RequestError{http.StatusBadRequest, "malformed JSON body: " + jsonErrText(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &RequestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes)}
		}
		return &RequestError{http.StatusBadRequest, "the body must hold a single JSON object"}
	}
	return nil
}

// DecodeOptionalJSON is DecodeJSON for endpoints whose body may be empty.
func DecodeOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil
	}
	return DecodeJSON(w, r, dst)
}

func jsonErrText(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field != "" {
			return fmt.Sprintf("field %q must be %s", typeErr.Field, typeErr.Type.String())
		}
		return "the body must be a JSON object"
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at offset %d", syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "invalid JSON"
}

// HasContentType reports whether the request's media type is want.
func HasContentType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && strings.EqualFold(mt, want)
}

// BearerToken returns the token of an `Authorization: Bearer` header, or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// WriteJSON writes v as JSON with the given status.
//
// The JSON is written without HTML escaping (an otpauth:// URL keeps its
// "&" instead of "\u0026", so it can be copied as it is); nosniff keeps a
// browser from ever reading such a body as anything but JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// NoStore marks a response as carrying tokens: never cached.
func NoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
