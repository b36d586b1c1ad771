package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxBody bounds every response body the client reads.
const maxBody = 1 << 20

// newHTTPClient returns a client tuned for load: keep-alive connections,
// as many idle connections per host as there are concurrent clients, no
// compression, no proxy, no redirects, and a bound on every request.
func newHTTPClient(concurrency int) *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          concurrency + 8,
		MaxIdleConnsPerHost:   concurrency + 8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: RequestTimeout,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// client sends the requests of a run.
type client struct {
	hc       *http.Client
	base     string
	tenant   string
	adminKey string
}

// request is one HTTP request to send.
type request struct {
	method string
	path   string
	body   []byte
	ctype  string
	bearer string
	basic  *[2]string // client id and secret
}

// do sends rq and reads the answer into buf (reset first). status is 0
// when no answer came.
func (c *client) do(ctx context.Context, rq request, buf *bytes.Buffer) (int, error) {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	hr, err := http.NewRequestWithContext(ctx, rq.method, c.base+rq.path, body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	if rq.ctype != "" {
		hr.Header.Set("Content-Type", rq.ctype)
	}
	if rq.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+rq.bearer)
	}
	if rq.basic != nil {
		hr.Header.Set("Authorization", basicAuth(rq.basic[0], rq.basic[1]))
	}
	if c.tenant != "" {
		hr.Header.Set("X-Tenant-ID", c.tenant)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody)); err != nil {
		return 0, fmt.Errorf("%s %s: read answer: %w", rq.method, rq.path, err)
	}
	// Drain what the limit left so that the connection can be reused.
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// retrying is do for the preparation: while the server answers 429 or 503
// (its password hashing is saturated, say), it waits and tries again, up
// to about half a minute.
func (c *client) retrying(ctx context.Context, rq request, buf *bytes.Buffer) (int, error) {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		status, err := c.do(ctx, rq, buf)
		if err != nil || (status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests) || attempt == 12 {
			return status, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 4*time.Second)
	}
}

// basicAuth is an HTTP Basic Authorization value; ids and secrets are
// form-encoded first, as RFC 6749 §2.3.1 asks.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// admin sends a JSON request with the admin key and decodes a JSON answer
// into out (when not nil); any status but want is an error.
func (c *client) admin(ctx context.Context, method, path string, in, out any, want int) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	var buf bytes.Buffer
	status, err := c.retrying(ctx, request{method: method, path: path, body: body, ctype: ctypeIf(body, "application/json"), bearer: c.adminKey}, &buf)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d: %s", method, path, status, truncate(buf.Bytes(), 300))
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func ctypeIf(body []byte, ctype string) string {
	if body == nil {
		return ""
	}
	return ctype
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// statusKey is the error class of an HTTP answer, or of a failure without
// an answer (status 0).
func statusKey(status int, err error) string {
	if status != 0 {
		return strconv.Itoa(status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "transport"
}

// jsonField returns the string value of the top-level-looking field name
// in a JSON body without decoding all of it: the answers it reads carry
// URL-safe tokens, which need no unescaping. It falls back to a full
// decode when the quick scan finds nothing usable.
func jsonField(body []byte, name string) string {
	key := []byte(`"` + name + `":"`)
	if i := bytes.Index(body, key); i >= 0 {
		rest := body[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j > 0 && bytes.IndexByte(rest[:j], '\\') < 0 {
			return string(rest[:j])
		}
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	if d, ok := m["data"].(map[string]any); ok {
		if s, ok := d[name].(string); ok {
			return s
		}
	}
	s, _ := m[name].(string)
	return s
}

// jsonBody is a JSON object of string fields, built without reflection.
func jsonBody(kv ...string) []byte {
	b := make([]byte, 0, 96)
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, kv[i])
		b = append(b, ':')
		b = appendJSONString(b, kv[i+1])
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Tokens and generated
// names are plain ASCII and go through as they are; anything else is
// encoded by encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
