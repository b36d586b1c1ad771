package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/safeurl"
)

// Limits of the requests to providers.
const (
	// DefaultFetchTimeout bounds one discovery or JWKS request, connection included.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultMaxResponseBytes bounds a discovery document or key set.
	DefaultMaxResponseBytes = 1 << 20
)

// NewHTTPClient returns the client used for provider requests when Options
// names none: every phase of a request has a timeout, at most three
// redirects are followed, and (unless allowInsecure) every connection to a
// loopback, private, link-local or unspecified address is refused when it
// is dialled, so a provider host whose DNS answer changes after
// registration cannot reach the internal network.
func NewHTTPClient(allowInsecure bool) *http.Client {
	return safeurl.Client(DefaultFetchTimeout, allowInsecure)
}

// getJSON fetches rawURL and decodes its JSON body into dst. Non-200
// answers and bodies over the size limit are errors.
func (v *Verifier) getJSON(ctx context.Context, rawURL string, dst any) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", rawURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.maxBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", rawURL, err)
	}
	if int64(len(body)) > v.maxBytes {
		return fmt.Errorf("get %s: response larger than %d bytes", rawURL, v.maxBytes)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("decode %s: %w", rawURL, err)
	}
	return nil
}

// discoveryDoc is the part of an OpenID provider's metadata Gatehouse reads.
type discoveryDoc struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// discoverJWKS reads the issuer's discovery document and returns its
// jwks_uri, after checking that the document speaks for that issuer
// (OpenID Connect Discovery §4.3).
func (v *Verifier) discoverJWKS(ctx context.Context, issuer string) (string, error) {
	var doc discoveryDoc
	if err := v.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("discovery: document names issuer %q, want %q", doc.Issuer, issuer)
	}
	if err := safeurl.Check(ctx, doc.JWKSURI, v.allowInsecure); err != nil {
		return "", fmt.Errorf("discovery: jwks_uri: %w", err)
	}
	return doc.JWKSURI, nil
}

// CheckURL reports whether s is an absolute http(s) URL with a host and
// without a fragment, as issuers and JWKS locations must be.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("is empty")
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an http or https URL")
	case u.Host == "":
		return errors.New("has no host")
	case u.Fragment != "" || u.User != nil:
		return errors.New("must not carry a fragment or user information")
	}
	return nil
}
