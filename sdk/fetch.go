package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxDocumentBytes bounds the discovery documents, key sets and feed pages
// the SDK reads.
const maxDocumentBytes = 1 << 20

// defaultHTTPTimeout bounds each request of the default HTTP client.
const defaultHTTPTimeout = 10 * time.Second

// defaultHTTPClient is used when the caller supplies none.
var defaultHTTPClient = &http.Client{Timeout: defaultHTTPTimeout}

// discovery holds the fields of the OpenID configuration the SDK uses.
type discovery struct {
	Issuer              string `json:"issuer"`
	JWKSURI             string `json:"jwks_uri"`
	RevocationsEndpoint string `json:"revocation_feed_endpoint"`
}

// fetchJSON GETs url and decodes a JSON answer of status 200 into dst.
// setup, when non-nil, adjusts the request (credentials).
func fetchJSON(ctx context.Context, hc *http.Client, url string, setup func(*http.Request), dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	if setup != nil {
		setup(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("GET %s: answer exceeds %d bytes", url, maxDocumentBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, snippet(body))
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("GET %s: decode JSON: %w", url, err)
	}
	return nil
}

// snippet returns the start of an error body, for messages.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// discover reads the issuer's OpenID configuration and checks that it
// names the expected issuer.
func discover(ctx context.Context, hc *http.Client, issuer string) (discovery, error) {
	var d discovery
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := fetchJSON(ctx, hc, url, nil, &d); err != nil {
		return discovery{}, fmt.Errorf("discovery: %w", err)
	}
	if d.Issuer != issuer {
		return discovery{}, fmt.Errorf("discovery: issuer %q does not match the configured issuer %q", d.Issuer, issuer)
	}
	if d.JWKSURI == "" {
		return discovery{}, fmt.Errorf("discovery: %s names no jwks_uri", url)
	}
	return d, nil
}
