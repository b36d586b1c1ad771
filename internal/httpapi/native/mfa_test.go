package native_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// enrolled starts a server (with opts) with user alice, who has a confirmed
// TOTP factor; it returns the secret and the recovery codes.
func enrolled(t *testing.T, opts servertest.Options) (*servertest.Env, string, []string) {
	t.Helper()
	env, tk := newUser(t, opts)
	secret, codes := env.EnrollTOTP("", tk.AccessToken)
	return env, secret, codes
}

// auditTypes returns the types of the default tenant's audit events, oldest first.
func auditTypes(t *testing.T, env *servertest.Env) []string {
	t.Helper()
	r := env.Admin("GET", "/admin/audit?limit=1000", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var out struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	r.Decode(t, &out)
	var types []string
	for i := len(out.Events) - 1; i >= 0; i-- {
		types = append(types, out.Events[i].Type)
	}
	return types
}

func wantAudit(t *testing.T, env *servertest.Env, types ...string) {
	t.Helper()
	got := auditTypes(t, env)
	for _, want := range types {
		if !slices.Contains(got, want) {
			t.Errorf("audit lacks %q: %v", want, got)
		}
	}
}

func wantError(t *testing.T, r *servertest.Response, status int, id string) {
	t.Helper()
	if r.Status != status || r.JSON(t)["error"] != id {
		t.Fatalf("want %d %s, got %d %s", status, id, r.Status, r.Body)
	}
}

func amrOf(t *testing.T, access string) []string {
	t.Helper()
	_, claims, _ := segments(t, access)
	var amr []string
	for _, v := range claims["amr"].([]any) {
		amr = append(amr, v.(string))
	}
	return amr
}

func TestTOTP_EnrolConfirmAndSignIn(t *testing.T) {
	env, tk := newUser(t, servertest.Options{})
	r := env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: map[string]any{}, Bearer: tk.AccessToken})
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("enroll: %d %v %s", r.Status, r.Header, r.Body)
	}
	en := r.JSON(t)
	secret := en["secret"].(string)
	// Written as it is meant to be copied: & and not \u0026.
	if raw := string(r.Body); strings.Contains(raw, `\u0026`) || !strings.Contains(raw, "&issuer=") {
		t.Errorf("otpauth_url is not written plainly: %s", raw)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", r.Header.Get("X-Content-Type-Options"))
	}
	u, err := url.Parse(en["otpauth_url"].(string))
	if err != nil {
		t.Fatalf("otpauth_url: %v", err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gatehouse:alice" || q.Get("secret") != secret ||
		q.Get("issuer") != "Gatehouse" || q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("otpauth_url = %s", u)
	}
	if len(secret) != 32 {
		t.Fatalf("secret %q: want 160 bits in base32", secret)
	}

	// Pending: sign-in is not challenged yet.
	if r := login(env, "", "alice", pw, nil); r.JSON(t)["access_token"] == nil {
		t.Fatalf("a pending factor challenged the sign-in: %s", r.Body)
	}
	confirm := func(code string) *servertest.Response {
		return env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", Bearer: tk.AccessToken,
			JSON: map[string]any{"code": code}})
	}
	wrong := "000000"
	if env.TOTPCode(secret) == wrong {
		wrong = "111111"
	}
	wantError(t, confirm(wrong), http.StatusUnauthorized, "invalid_mfa_code")
	r = confirm(env.TOTPCode(secret))
	if r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	codes := r.JSON(t)["recovery_codes"].([]any)
	if len(codes) != 10 {
		t.Fatalf("recovery codes: %s", r.Body)
	}

	env.Clock.Advance(servertest.TOTPPeriod)
	ch := env.LoginChallenged("", "alice", pw)
	if len(ch.ChallengeToken) < 43 || !slices.Equal(ch.RequiredMFAMethods, []string{"totp", "recovery_code"}) || ch.MFACheckReason == "" {
		t.Fatalf("challenge = %+v", ch)
	}
	lr := login(env, "", "alice", pw, nil).JSON(t)
	if _, ok := lr["user"]; ok {
		t.Fatalf("a challenged sign-in disclosed the user: %v", lr)
	}
	if lr["risk_level"] == nil || lr["risk_assessment"] == nil {
		t.Fatalf("a challenged sign-in lacks its risk assessment: %v", lr)
	}

	r = env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret))
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	var got servertest.Tokens
	r.Decode(t, &got)
	if got.AccessToken == "" || got.RefreshToken == "" || got.User["username"] != "alice" {
		t.Fatalf("verify answered no tokens: %s", r.Body)
	}
	if amr := amrOf(t, got.AccessToken); !slices.Equal(amr, []string{"pwd", "otp"}) {
		t.Fatalf("amr = %v, want [pwd otp]", amr)
	}
	if r := env.Me("", got.AccessToken); r.Status != http.StatusOK {
		t.Fatalf("/auth/me with the MFA token: %d", r.Status)
	}
	refreshOK(t, env, got.RefreshToken)

	// The same code (same time step) is refused on a second challenge.
	ch2 := env.LoginChallenged("", "alice", pw)
	wantError(t, env.VerifyMFA("", ch2.ChallengeToken, "totp", env.TOTPCode(secret)), http.StatusUnauthorized, "invalid_mfa_code")
	// The next step's code works.
	if r := env.VerifyMFA("", ch2.ChallengeToken, "totp", env.NextTOTPCode(secret)); r.Status != http.StatusOK {
		t.Fatalf("verify with the next code: %d %s", r.Status, r.Body)
	}
	wantAudit(t, env, "mfa_enrollment_started", "mfa_enrolled", "mfa_challenged", "mfa_succeeded", "mfa_failed", "login_succeeded")
}

func TestTOTP_ConcurrentVerifiesOneWins(t *testing.T) {
	testConcurrentVerifies(t, servertest.Options{})
}

func TestTOTP_ConcurrentVerifiesOneWinsOnPostgres(t *testing.T) {
	testConcurrentVerifies(t, servertest.Options{Postgres: true})
}

func testConcurrentVerifies(t *testing.T, opts servertest.Options) {
	env, secret, _ := enrolled(t, opts)
	ch := env.LoginChallenged("", "alice", pw)
	code := env.TOTPCode(secret)
	statuses := verifyAtOnce(env, 10, func(int) (string, string) { return ch.ChallengeToken, code })
	if statuses[http.StatusOK] != 1 {
		t.Fatalf("statuses of 10 concurrent verifies of one challenge: %v, want exactly one 200", statuses)
	}

	// One code against ten challenges at once: one sign-in.
	var tokens []string
	for range 10 {
		tokens = append(tokens, env.LoginChallenged("", "alice", pw).ChallengeToken)
	}
	code = env.NextTOTPCode(secret)
	statuses = verifyAtOnce(env, 10, func(i int) (string, string) { return tokens[i], code })
	if statuses[http.StatusOK] != 1 || statuses[http.StatusUnauthorized] != 9 {
		t.Fatalf("statuses of one code against 10 challenges: %v, want one 200 and nine 401", statuses)
	}
}

// verifyAtOnce sends n verifies released together; req(i) gives the
// challenge and the code of the i-th. It returns the count of each status.
func verifyAtOnce(env *servertest.Env, n int, req func(i int) (string, string)) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, code := req(i)
			<-start
			r := env.VerifyMFA("", ch, "totp", code)
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

func TestTOTP_WrongCodesEndTheChallengeAndThrottle(t *testing.T) {
	env, secret, _ := enrolled(t, servertest.Options{})
	wrongCode := func() string {
		if env.TOTPCode(secret) == "123456" {
			return "654321"
		}
		return "123456"
	}
	ch := env.LoginChallenged("", "alice", pw)
	for i := range 5 {
		r := env.VerifyMFA("", ch.ChallengeToken, "totp", wrongCode())
		wantError(t, r, http.StatusUnauthorized, "invalid_mfa_code")
		if i == 4 && !strings.Contains(r.JSON(t)["message"].(string), "sign in again") {
			t.Fatalf("the 5th wrong code does not say the challenge ended: %s", r.Body)
		}
	}
	// The challenge is over, even for the right code.
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret)), http.StatusBadRequest, "invalid_grant")

	// Five more wrong codes on a new challenge lock the second factor.
	ch = env.LoginChallenged("", "alice", pw)
	for range 5 {
		wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", wrongCode()), http.StatusUnauthorized, "invalid_mfa_code")
	}
	ch = env.LoginChallenged("", "alice", pw)
	r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret))
	wantError(t, r, http.StatusTooManyRequests, "too_many_attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	env.Clock.Advance(16 * time.Minute)
	ch = env.LoginChallenged("", "alice", pw)
	if r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret)); r.Status != http.StatusOK {
		t.Fatalf("verify after the lockout: %d %s", r.Status, r.Body)
	}
}

func TestTOTP_ChallengeSingleUseAndExpiry(t *testing.T) {
	env, secret, _ := enrolled(t, servertest.Options{})
	ch := env.LoginChallenged("", "alice", pw)
	if r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret)); r.Status != http.StatusOK {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.NextTOTPCode(secret)), http.StatusBadRequest, "invalid_grant")

	ch = env.LoginChallenged("", "alice", pw)
	env.Clock.Advance(5*time.Minute + time.Second)
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(secret)), http.StatusBadRequest, "invalid_grant")
	wantError(t, env.VerifyMFA("", "not-a-challenge", "totp", env.TOTPCode(secret)), http.StatusBadRequest, "invalid_grant")
	// Another tenant does not know the challenge.
	env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "other"})
	ch = env.LoginChallenged("", "alice", pw)
	wantError(t, env.VerifyMFA("other", ch.ChallengeToken, "totp", env.TOTPCode(secret)), http.StatusBadRequest, "invalid_grant")
	// Bad requests.
	for _, body := range []map[string]any{
		{"challenge_token": ch.ChallengeToken, "method": "sms", "code": "123456"},
		{"challenge_token": ch.ChallengeToken, "method": "totp"},
		{"method": "totp", "code": "123456"},
	} {
		r := env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/verify", JSON: body})
		wantError(t, r, http.StatusBadRequest, "invalid_request")
	}
}

func TestRecoveryCode_Once(t *testing.T) {
	env, _, codes := enrolled(t, servertest.Options{})
	ch := env.LoginChallenged("", "alice", pw)
	// Typed in upper case without dashes: still the code.
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))
	r := env.VerifyMFA("", ch.ChallengeToken, "recovery_code", typed)
	if r.Status != http.StatusOK {
		t.Fatalf("verify with a recovery code: %d %s", r.Status, r.Body)
	}
	var got servertest.Tokens
	r.Decode(t, &got)
	if amr := amrOf(t, got.AccessToken); !slices.Equal(amr, []string{"pwd", "mfa"}) {
		t.Fatalf("amr = %v, want [pwd mfa]", amr)
	}
	ch = env.LoginChallenged("", "alice", pw)
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "recovery_code", codes[0]), http.StatusUnauthorized, "invalid_mfa_code")
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "recovery_code", "aaaa-bbbb-cccc-dddd"), http.StatusUnauthorized, "invalid_mfa_code")
	if r := env.VerifyMFA("", ch.ChallengeToken, "recovery_code", codes[1]); r.Status != http.StatusOK {
		t.Fatalf("verify with another recovery code: %d %s", r.Status, r.Body)
	}
	wantAudit(t, env, "recovery_code_used")
}

func TestTOTP_ReenrolRequiresACurrentCode(t *testing.T) {
	env, oldSecret, oldCodes := enrolled(t, servertest.Options{})
	ch := env.LoginChallenged("", "alice", pw)
	r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(oldSecret))
	var tk servertest.Tokens
	r.Decode(t, &tk)
	enroll := func(body map[string]any) *servertest.Response {
		return env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/enroll", JSON: body, Bearer: tk.AccessToken})
	}
	wantError(t, enroll(map[string]any{}), http.StatusUnauthorized, "mfa_required")
	wantError(t, enroll(map[string]any{"code": "12"}), http.StatusUnauthorized, "invalid_mfa_code")
	r = enroll(map[string]any{"code": env.NextTOTPCode(oldSecret)})
	if r.Status != http.StatusOK {
		t.Fatalf("re-enrol: %d %s", r.Status, r.Body)
	}
	newSecret := r.JSON(t)["secret"].(string)
	// Until the new factor is confirmed, the old one signs in.
	ch = env.LoginChallenged("", "alice", pw)
	if r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.NextTOTPCode(oldSecret)); r.Status != http.StatusOK {
		t.Fatalf("old factor before confirmation: %d %s", r.Status, r.Body)
	}
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", Bearer: tk.AccessToken,
		JSON: map[string]any{"code": env.NextTOTPCode(newSecret)}})
	if r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	ch = env.LoginChallenged("", "alice", pw)
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "totp", env.NextTOTPCode(oldSecret)), http.StatusUnauthorized, "invalid_mfa_code")
	wantError(t, env.VerifyMFA("", ch.ChallengeToken, "recovery_code", oldCodes[0]), http.StatusUnauthorized, "invalid_mfa_code")
	if r := env.VerifyMFA("", ch.ChallengeToken, "totp", env.TOTPCode(newSecret)); r.Status != http.StatusOK {
		t.Fatalf("new factor: %d %s", r.Status, r.Body)
	}
	// Nothing to confirm any more.
	r = env.Do(servertest.Request{Method: "POST", Path: "/auth/mfa/totp/confirm", Bearer: tk.AccessToken,
		JSON: map[string]any{"code": env.NextTOTPCode(newSecret)}})
	wantError(t, r, http.StatusBadRequest, "invalid_request")
}

func TestMFA_EndpointsNeedAValidToken(t *testing.T) {
	env, _ := newUser(t, servertest.Options{})
	for _, p := range []string{"/auth/mfa/totp/enroll", "/auth/mfa/totp/confirm"} {
		r := env.Do(servertest.Request{Method: "POST", Path: p, JSON: map[string]any{"code": "123456"}, Bearer: "nope"})
		wantError(t, r, http.StatusUnauthorized, "unauthorized")
	}
}
