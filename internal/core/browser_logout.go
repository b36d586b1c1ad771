package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// LogoutParams are the parameters of RP-initiated logout (OpenID Connect
// RP-Initiated Logout 1.0 §2).
type LogoutParams struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// LogoutResult tells the pages where the browser goes after logout:
// RedirectURL, or the signed-out page when it is empty.
type LogoutResult struct {
	RedirectURL string
	ClientName  string
	// SignedOut: a browser session was ended.
	SignedOut bool
}

// BrowserLogout ends the browser session of cookie (or, without one, the
// browser session named by a valid id_token_hint) and every session linked
// to it. It redirects only to a post_logout_redirect_uri registered for
// the client named by client_id or the hint's audience; anything else
// (unregistered URI, client and hint disagreeing) ends the session all the
// same and shows the signed-out page.
func (s *Service) BrowserLogout(ctx context.Context, p LogoutParams, cookie string, m Meta) (LogoutResult, error) {
	var hintTenant, hintSID, hintAud string
	if p.IDTokenHint != "" {
		claims, err := s.keys.VerifySignedJWT(ctx, p.IDTokenHint, s.clock.Now())
		if err == nil {
			hintTenant, _ = claims["tid"].(string)
			hintSID, _ = claims["sid"].(string)
			hintAud = audienceOf(claims["aud"])
		}
	}
	clientID := p.ClientID
	if clientID == "" {
		clientID = hintAud
	}
	var out LogoutResult
	var c store.Client
	haveClient := false
	if validClientID(clientID) && (hintAud == "" || hintAud == clientID) {
		var err error
		c, err = s.lookupClient(ctx, clientID, s.clock.Now())
		switch {
		case err == nil:
			haveClient = true
			out.ClientName = c.Name
		case !errors.Is(err, store.ErrNotFound):
			return LogoutResult{}, fmt.Errorf("find client: %w", err)
		}
	}
	ended, err := s.logoutBrowser(ctx, cookie, hintTenant, hintSID, haveClient, c, m)
	if err != nil {
		return LogoutResult{}, err
	}
	out.SignedOut = ended
	if haveClient && p.PostLogoutRedirectURI != "" && slices.Contains(c.PostLogoutRedirectURIs, p.PostLogoutRedirectURI) {
		u := p.PostLogoutRedirectURI
		if p.State != "" {
			sep := "?"
			if containsQuery(u) {
				sep = "&"
			}
			u += sep + url.Values{"state": {p.State}}.Encode()
		}
		out.RedirectURL = u
	}
	return out, nil
}

func containsQuery(u string) bool {
	parsed, err := url.Parse(u)
	return err == nil && parsed.RawQuery != ""
}

// logoutBrowser ends the browser session of the cookie, or the one the
// hint names. It reports whether one was ended.
func (s *Service) logoutBrowser(ctx context.Context, cookie, hintTenant, hintSID string, haveClient bool, c store.Client, m Meta) (bool, error) {
	if cookie != "" {
		b, ok, err := s.cookieSession(ctx, cookie)
		if err != nil {
			return false, err
		}
		if ok {
			return s.endBrowserSession(ctx, b, m)
		}
	}
	if hintSID == "" || hintTenant == "" || (haveClient && c.TenantID != hintTenant) {
		return false, nil
	}
	return s.endBrowserSession(ctx, store.BrowserSession{TenantID: hintTenant, ID: hintSID}, m)
}

// cookieSession returns the live browser session of a cookie, of any tenant.
func (s *Service) cookieSession(ctx context.Context, cookie string) (store.BrowserSession, bool, error) {
	if len(cookie) > maxOpaqueLen {
		return store.BrowserSession{}, false, nil
	}
	b, err := s.store.GetBrowserSession(ctx, hashCookie(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return store.BrowserSession{}, false, nil
	}
	if err != nil {
		return store.BrowserSession{}, false, fmt.Errorf("read browser session: %w", err)
	}
	return b, b.Live(s.clock.Now()), nil
}

// audienceOf returns the single audience of an ID token (a string or a
// one-element list), or "".
func audienceOf(v any) string {
	switch a := v.(type) {
	case string:
		return a
	case []any:
		if len(a) == 1 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}
