package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func init() {
	cases = append(cases, browserCases...)
}

// browserCases check store.BrowserStore and the browser fields of clients
// and sessions.
var browserCases = []testCase{
	{"Browser/ClientFieldsRoundTrip", testClientBrowserFields},
	{"Browser/SessionRoundTripAndTouch", testBrowserSessionRoundTrip},
	{"Browser/EndRevokesLinkedSessions", testBrowserSessionEnd},
	{"Browser/ReplaceMovesLinkedSessions", testBrowserSessionReplace},
	{"Browser/AuthCodeRedeemedOnce", testAuthCodeSingleUse},
	{"Browser/AuthCodeConcurrentOneWinner", testAuthCodeConcurrent},
	{"Browser/Consents", testConsents},
	{"Browser/AuthRequests", testAuthRequests},
	{"Browser/AuthRequestConcurrentOneWinner", testAuthRequestConcurrent},
}

func testClientBrowserFields(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	c := newClient("t1", "web")
	c.RedirectURIs = []string{"https://app.example/cb", "http://127.0.0.1/cb"}
	c.PostLogoutRedirectURIs = []string{"https://app.example/bye"}
	c.BackchannelLogoutURI = "https://app.example/bcl"
	c.RequirePAR = true
	mustClient(t, s, c)
	got, err := s.GetClient(t.Context(), "t1", "web")
	if err != nil {
		t.Fatal(err)
	}
	sameStrings(t, "RedirectURIs", got.RedirectURIs, c.RedirectURIs)
	sameStrings(t, "PostLogoutRedirectURIs", got.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs)
	if got.BackchannelLogoutURI != c.BackchannelLogoutURI || !got.RequirePAR {
		t.Errorf("client = %+v", got)
	}
	got, err = s.UpdateClient(t.Context(), "t1", "web", func(c *store.Client) error {
		c.RedirectURIs, c.RequirePAR, c.BackchannelLogoutURI = []string{"https://app.example/other"}, false, ""
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.GetClient(t.Context(), "t1", "web")
	sameStrings(t, "updated RedirectURIs", again.RedirectURIs, []string{"https://app.example/other"})
	if again.RequirePAR || again.BackchannelLogoutURI != "" || got.RequirePAR {
		t.Errorf("updated client = %+v", again)
	}
}

func newBrowserSession(tenant, id, userID string, at time.Time) store.BrowserSession {
	return store.BrowserSession{
		TenantID: tenant, ID: id, Hash: hashOf("cookie-" + id), UserID: userID, AMR: []string{"pwd", "otp"},
		IP: "198.51.100.7", UserAgent: "suite/1.0", AuthTime: at, CreatedAt: at, LastSeenAt: at,
		IdleExpiresAt: at.Add(time.Hour), ExpiresAt: at.Add(24 * time.Hour),
	}
}

func testBrowserSessionRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	b := newBrowserSession("t1", "b1", "u1", base.Add(250*time.Microsecond))
	if err := s.CreateBrowserSession(ctx, b, ""); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate", s.CreateBrowserSession(ctx, b, ""), store.ErrConflict)
	got, err := s.GetBrowserSession(ctx, b.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.TenantID != "t1" || got.ID != "b1" || got.UserID != "u1" || got.IP != b.IP || got.UserAgent != b.UserAgent {
		t.Errorf("browser session = %+v", got)
	}
	sameStrings(t, "AMR", got.AMR, b.AMR)
	sameTime(t, "AuthTime", got.AuthTime, b.AuthTime)
	sameTime(t, "IdleExpiresAt", got.IdleExpiresAt, b.IdleExpiresAt)
	sameTime(t, "ExpiresAt", got.ExpiresAt, b.ExpiresAt)
	sameTime(t, "RevokedAt", got.RevokedAt, time.Time{})
	_, err = s.GetBrowserSession(ctx, hashOf("nobody"))
	wantErr(t, "unknown", err, store.ErrNotFound)

	later := base.Add(30 * time.Minute)
	if err := s.TouchBrowserSession(ctx, "t1", "b1", later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetBrowserSession(ctx, b.Hash)
	sameTime(t, "touched LastSeenAt", got.LastSeenAt, later)
	sameTime(t, "touched IdleExpiresAt", got.IdleExpiresAt, later.Add(time.Hour))
	wantErr(t, "touch other tenant", s.TouchBrowserSession(ctx, "t2", "b1", later, later), store.ErrNotFound)
}

func testBrowserSessionEnd(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	b := newBrowserSession("t1", "b1", "u1", base)
	if err := s.CreateBrowserSession(ctx, b, ""); err != nil {
		t.Fatal(err)
	}
	linked := []string{"s1", "s2"}
	for i, id := range append(linked, "s3") {
		sess := newSession("t1", id, "u1", base.Add(time.Duration(i)*time.Second))
		if id != "s3" {
			sess.BrowserSessionID = "b1"
		}
		mustSession(t, s, sess, newToken(hashOf("rt-"+id), base))
	}
	if got := mustGetSession(t, s, "t1", "s1"); got.BrowserSessionID != "b1" {
		t.Errorf("BrowserSessionID = %q, want b1", got.BrowserSessionID)
	}
	before := len(revocations(t, s))
	now := base.Add(time.Minute)
	ended, err := s.EndBrowserSession(ctx, "t1", "b1", now, "logout")
	if err != nil {
		t.Fatal(err)
	}
	if len(ended) != 2 {
		t.Fatalf("ended %d sessions, want 2", len(ended))
	}
	for _, id := range linked {
		if got := mustGetSession(t, s, "t1", id); got.RevokedAt.IsZero() || got.Reason != "logout" {
			t.Errorf("session %s = %+v, want revoked by logout", id, got)
		}
	}
	if got := mustGetSession(t, s, "t1", "s3"); !got.RevokedAt.IsZero() {
		t.Errorf("unlinked session revoked")
	}
	if n := len(revocations(t, s)) - before; n != 2 {
		t.Errorf("%d revocation records, want 2", n)
	}
	got, _ := s.GetBrowserSession(ctx, b.Hash)
	sameTime(t, "RevokedAt", got.RevokedAt, now)
	if got.Live(now) {
		t.Error("ended browser session still live")
	}
	again, err := s.EndBrowserSession(ctx, "t1", "b1", now.Add(time.Second), "logout")
	if err != nil || len(again) != 0 {
		t.Errorf("second end = %v, %v; want nothing", again, err)
	}
	_, err = s.EndBrowserSession(ctx, "t1", "nope", now, "logout")
	wantErr(t, "end unknown", err, store.ErrNotFound)
}

func newAuthCode(label string, at time.Time) store.AuthCode {
	return store.AuthCode{
		Hash: hashOf("code-" + label), TenantID: "t1", ClientID: "web", UserID: "u1", BrowserSessionID: "b1",
		RedirectURI: "https://app.example/cb", Scope: "openid profile", Nonce: "n-0S6", CodeChallenge: "E9Melhoa2Owv",
		AMR: []string{"pwd"}, AuthTime: at.Add(-time.Minute), CreatedAt: at, ExpiresAt: at.Add(time.Minute),
	}
}

// redeem redeems a code for a new session sid of user u1.
func redeem(t *testing.T, s store.Store, hash, sid string, now time.Time) error {
	t.Helper()
	sess := newSession("t1", sid, "u1", now)
	sess.BrowserSessionID = "b1"
	return s.RedeemAuthCode(t.Context(), hash, now, sess, store.RefreshToken{Hash: hashOf("rt-" + sid), TenantID: "t1",
		SessionID: sid, Generation: 1, CreatedAt: now, ExpiresAt: now.Add(idleTTL)}, codeAudit("login_succeeded"))
}

// codeAudit is the audit event written with a code's issue or redemption.
func codeAudit(typ string) store.AuditEvent {
	return store.AuditEvent{Time: base, Type: typ, TenantID: "t1", UserID: "u1", Details: map[string]any{"client_id": "web"}}
}

func testAuthCodeSingleUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	a := newAuthCode("a", base)
	if err := s.CreateAuthCode(ctx, a, codeAudit("authorization_code_issued")); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAuthCode(ctx, a.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != a.ClientID || got.RedirectURI != a.RedirectURI || got.Scope != a.Scope || got.Nonce != a.Nonce ||
		got.CodeChallenge != a.CodeChallenge || got.BrowserSessionID != "b1" || got.UserID != "u1" || got.SessionID != "" {
		t.Errorf("code = %+v", got)
	}
	sameStrings(t, "AMR", got.AMR, a.AMR)
	sameTime(t, "AuthTime", got.AuthTime, a.AuthTime)
	sameTime(t, "UsedAt", got.UsedAt, time.Time{})
	now := base.Add(10 * time.Second)
	if err := redeem(t, s, a.Hash, "s1", now); err != nil {
		t.Fatal(err)
	}
	if got := mustGetSession(t, s, "t1", "s1"); got.BrowserSessionID != "b1" || got.UserID != "u1" {
		t.Errorf("redeemed session = %+v", got)
	}
	wantErr(t, "second use", redeem(t, s, a.Hash, "s2", now), store.ErrConflict)
	events, err := s.ListAudit(ctx, "t1", store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var issued, redeemed int
	for _, e := range events {
		switch {
		case e.Type == "authorization_code_issued":
			issued++
		case e.Type == "login_succeeded" && e.SessionID == "s1":
			redeemed++
		case e.Type == "login_succeeded":
			t.Errorf("audit event of a refused redemption: %+v", e)
		}
	}
	if issued != 1 || redeemed != 1 {
		t.Errorf("audit: %d issued, %d redeemed; want 1 and 1 written with the code", issued, redeemed)
	}
	_, err = s.GetSession(ctx, "t1", "s2")
	wantErr(t, "session of a refused redemption", err, store.ErrNotFound)
	got, _ = s.GetAuthCode(ctx, a.Hash)
	if got.SessionID != "s1" {
		t.Errorf("SessionID = %q, want the first user's s1", got.SessionID)
	}
	sameTime(t, "UsedAt", got.UsedAt, now)

	expired := newAuthCode("expired", base)
	if err := s.CreateAuthCode(ctx, expired, codeAudit("authorization_code_issued")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "use expired", redeem(t, s, expired.Hash, "s3", base.Add(time.Minute)), store.ErrConflict)
	wantErr(t, "use unknown", redeem(t, s, hashOf("nope"), "s4", now), store.ErrNotFound)
	_, err = s.GetAuthCode(ctx, hashOf("nope"))
	wantErr(t, "get unknown", err, store.ErrNotFound)
}

func testAuthCodeConcurrent(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	a := newAuthCode("c", base)
	if err := s.CreateAuthCode(t.Context(), a, codeAudit("authorization_code_issued")); err != nil {
		t.Fatal(err)
	}
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := redeem(t, s, a.Hash, "s"+string(rune('a'+i)), base.Add(time.Second))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("UseAuthCode: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 7 {
		t.Errorf("wins %d, conflicts %d; want 1 and 7", wins.Load(), conflicts.Load())
	}
}

func testConsents(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	k := store.Consent{TenantID: "t1", UserID: "u1", ClientID: "web", Scopes: []string{"openid", "email"},
		CreatedAt: base, UpdatedAt: base}
	if err := s.SaveConsent(ctx, k); err != nil {
		t.Fatal(err)
	}
	k.Scopes, k.UpdatedAt = []string{"openid", "email", "offline_access"}, base.Add(time.Hour)
	if err := s.SaveConsent(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveConsent(ctx, store.Consent{TenantID: "t1", UserID: "u1", ClientID: "another", Scopes: []string{"openid"}, CreatedAt: base, UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConsent(ctx, "t1", "u1", "web")
	if err != nil {
		t.Fatal(err)
	}
	sameStrings(t, "Scopes", got.Scopes, k.Scopes)
	sameTime(t, "CreatedAt", got.CreatedAt, base)
	sameTime(t, "UpdatedAt", got.UpdatedAt, base.Add(time.Hour))
	list, err := s.ListConsents(ctx, "t1", "u1")
	if err != nil || len(list) != 2 || list[0].ClientID != "another" {
		t.Errorf("ListConsents = %+v, %v", list, err)
	}
	_, err = s.GetConsent(ctx, "t2", "u1", "web")
	wantErr(t, "other tenant", err, store.ErrNotFound)
	if err := s.DeleteConsent(ctx, "t1", "u1", "web"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetConsent(ctx, "t1", "u1", "web")
	wantErr(t, "after delete", err, store.ErrNotFound)
	wantErr(t, "delete again", s.DeleteConsent(ctx, "t1", "u1", "web"), store.ErrNotFound)
}

func testAuthRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	r := store.AuthRequest{Hash: hashOf("req"), TenantID: "t1", ClientID: "web", Kind: store.AuthRequestPending,
		Data: []byte(`{"a":1}`), CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	now := base.Add(time.Second)
	got, err := s.GetAuthRequest(ctx, r.Hash, store.AuthRequestPending, now)
	if err != nil || string(got.Data) != `{"a":1}` || got.ClientID != "web" || got.TenantID != "t1" {
		t.Fatalf("GetAuthRequest = %+v, %v", got, err)
	}
	_, err = s.GetAuthRequest(ctx, r.Hash, store.AuthRequestPushed, now)
	wantErr(t, "other kind", err, store.ErrNotFound)
	if err := s.UpdateAuthRequest(ctx, r.Hash, []byte(`{"a":2}`), now); err != nil {
		t.Fatal(err)
	}
	used, err := s.UseAuthRequest(ctx, r.Hash, store.AuthRequestPending, now)
	if err != nil || string(used.Data) != `{"a":2}` {
		t.Fatalf("UseAuthRequest = %+v, %v", used, err)
	}
	_, err = s.UseAuthRequest(ctx, r.Hash, store.AuthRequestPending, now)
	wantErr(t, "second use", err, store.ErrNotFound)
	_, err = s.GetAuthRequest(ctx, r.Hash, store.AuthRequestPending, now)
	wantErr(t, "get used", err, store.ErrNotFound)
	wantErr(t, "update used", s.UpdateAuthRequest(ctx, r.Hash, nil, now), store.ErrNotFound)

	p := r
	p.Hash, p.Kind = hashOf("pushed"), store.AuthRequestPushed
	if err := s.CreateAuthRequest(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = s.UseAuthRequest(ctx, p.Hash, store.AuthRequestPushed, base.Add(time.Minute))
	wantErr(t, "use expired", err, store.ErrNotFound)
}

func testAuthRequestConcurrent(t *testing.T, s store.Store) {
	mustTenant(t, s, "t1")
	r := store.AuthRequest{Hash: hashOf("par"), TenantID: "t1", ClientID: "web", Kind: store.AuthRequestPushed,
		CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	if err := s.CreateAuthRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UseAuthRequest(t.Context(), r.Hash, store.AuthRequestPushed, base.Add(time.Second))
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UseAuthRequest: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d winners, want 1", wins.Load())
	}
}

func testBrowserSessionReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustUser(t, s, newUser("t1", "u1", "alice"))
	old := newBrowserSession("t1", "b1", "u1", base)
	if err := s.CreateBrowserSession(ctx, old, ""); err != nil {
		t.Fatal(err)
	}
	sess := newSession("t1", "s1", "u1", base)
	sess.BrowserSessionID = "b1"
	mustSession(t, s, sess, newToken(hashOf("rt-s1"), base))
	later := base.Add(time.Minute)
	b2 := newBrowserSession("t1", "b2", "u1", later)
	if err := s.CreateBrowserSession(ctx, b2, "b1"); err != nil {
		t.Fatal(err)
	}
	if got := mustGetSession(t, s, "t1", "s1"); got.BrowserSessionID != "b2" {
		t.Errorf("linked to %q, want b2", got.BrowserSessionID)
	}
	got, err := s.GetBrowserSessionByID(ctx, "t1", "b1")
	if err != nil {
		t.Fatal(err)
	}
	sameTime(t, "replaced RevokedAt", got.RevokedAt, later)
	if got, err := s.GetBrowserSessionByID(ctx, "t1", "b2"); err != nil || got.Hash != b2.Hash || !got.RevokedAt.IsZero() {
		t.Errorf("GetBrowserSessionByID(b2) = %+v, %v", got, err)
	}
	_, err = s.GetBrowserSessionByID(ctx, "t2", "b2")
	wantErr(t, "other tenant", err, store.ErrNotFound)
	ended, err := s.EndBrowserSession(ctx, "t1", "b2", later.Add(time.Minute), "logout")
	if err != nil || len(ended) != 1 || ended[0].ID != "s1" {
		t.Errorf("ending the new one ends the moved session: %v, %v", ended, err)
	}
}
