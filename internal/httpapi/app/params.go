package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// errTooLarge is the answer to a body over httpapi.MaxBodyBytes.
var errTooLarge = fmt.Errorf("the body exceeds %d bytes", httpapi.MaxBodyBytes)

// params reads the request's parameters: the body, form-encoded
// (application/x-www-form-urlencoded or multipart/form-data) or a JSON
// object, of at most httpapi.MaxBodyBytes; then, for names the body does
// not set, the query string (some clients send DELETE without a body).
func params(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	body := http.MaxBytesReader(w, r.Body, httpapi.MaxBodyBytes)
	vals, err := bodyParams(r, body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, err
	}
	for k, v := range r.URL.Query() {
		if _, ok := vals[k]; !ok {
			vals[k] = v
		}
	}
	return vals, nil
}

func bodyParams(r *http.Request, body io.Reader) (url.Values, error) {
	ctype := r.Header.Get("Content-Type")
	if ctype == "" {
		// No declared body: make sure there is none, within the limit.
		n, err := io.Copy(io.Discard, body)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errors.New("a body needs a Content-Type")
		}
		return url.Values{}, nil
	}
	mt, mp, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, errors.New("malformed Content-Type")
	}
	switch strings.ToLower(mt) {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, errors.New("malformed form body")
		}
		return vals, nil
	case "multipart/form-data":
		return multipartParams(body, mp["boundary"])
	case "application/json":
		return jsonParams(body)
	}
	return nil, errors.New("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
}

// multipartParams reads the fields of a multipart body; file parts are
// read through and ignored.
func multipartParams(body io.Reader, boundary string) (url.Values, error) {
	if boundary == "" {
		return nil, errors.New("multipart body without boundary")
	}
	vals := url.Values{}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return vals, nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, errors.New("malformed multipart body")
		}
		b, err := io.ReadAll(part)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, errors.New("malformed multipart body")
		}
		if name := part.FormName(); name != "" && part.FileName() == "" {
			vals.Add(name, string(b))
		}
	}
}

// jsonParams reads a JSON object whose values are strings, numbers,
// booleans or null (null is the same as absent).
func jsonParams(body io.Reader) (url.Values, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, errors.New("the body must be a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, errors.New("the body must hold a single JSON object")
	}
	vals := url.Values{}
	for k, v := range obj {
		switch x := v.(type) {
		case nil:
		case string:
			vals.Set(k, x)
		case json.Number:
			vals.Set(k, x.String())
		case bool:
			vals.Set(k, strconv.FormatBool(x))
		default:
			return nil, fmt.Errorf("field %q must be a string, a number or a boolean", k)
		}
	}
	return vals, nil
}
