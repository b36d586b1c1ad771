package native_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// proxied makes the test server believe X-Forwarded-For from loopback, so
// that a test can sign in "from" any address.
var proxied = map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.0/8"}

// from are the headers of a request from ip with User-Agent ua (through
// the trusted loopback proxy).
func from(ip, ua string) map[string]string {
	return map[string]string{"X-Forwarded-For": ip, "User-Agent": ua}
}

func withEnv(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func riskOf(t *testing.T, r *servertest.Response) (level string, score float64, reason string, m map[string]any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	m = r.JSON(t)
	ra, ok := m["risk_assessment"].(map[string]any)
	if !ok || m["risk_level"] != ra["level"] {
		t.Fatalf("no risk assessment: %s", r.Body)
	}
	reason, _ = m["mfa_check_reason"].(string)
	return ra["level"].(string), ra["score"].(float64), reason, m
}

// adaptiveUser starts an adaptive-mode server (threshold level) with alice,
// enrolled with TOTP, who has signed in once from 198.51.100.1 with "known/1.0".
func adaptiveUser(t *testing.T, level string) (*servertest.Env, string) {
	t.Helper()
	env := servertest.New(t, servertest.Options{Env: withEnv(proxied, "GATEHOUSE_MFA_MODE", "adaptive", "GATEHOUSE_MFA_RISK_LEVEL", level)})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	r := login(env, "", "alice", pw, from("198.51.100.1", "known/1.0"))
	lvl, score, reason, m := riskOf(t, r)
	// First sign-in: new IP, new User-Agent, no factor → medium (50); no
	// factor to challenge, so tokens, with the advice to enrol.
	if lvl != "medium" || score != 50 || reason != "new_ip,new_user_agent,no_second_factor" {
		t.Fatalf("first sign-in: level %s score %v reason %q", lvl, score, reason)
	}
	ra := m["risk_assessment"].(map[string]any)
	if ra["require_mfa"] != (level == "medium") || !slices.Equal(toStrings(ra["recommended_mfa_methods"]), []string{"totp"}) {
		t.Fatalf("first sign-in assessment: %v", ra)
	}
	secret, _ := env.EnrollTOTP("", m["access_token"].(string))
	return env, secret
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAdaptive_KnownDeviceGetsTokens(t *testing.T) {
	env, _ := adaptiveUser(t, "medium")
	lvl, score, reason, m := riskOf(t, login(env, "", "alice", pw, from("198.51.100.1", "known/1.0")))
	if lvl != "low" || score != 0 || reason != "" || m["access_token"] == nil || m["requires_mfa"] != nil {
		t.Fatalf("known device: level %s score %v reason %q: %v", lvl, score, reason, m)
	}
	ra := m["risk_assessment"].(map[string]any)
	if ra["require_mfa"] != false || !slices.Equal(toStrings(ra["recommended_mfa_methods"]), []string{"totp", "recovery_code"}) {
		t.Fatalf("assessment: %v", ra)
	}
}

func TestAdaptive_NewDeviceAfterFailuresIsChallenged(t *testing.T) {
	env, secret := adaptiveUser(t, "high")
	// A new device alone is medium: below the "high" threshold.
	lvl, _, reason, m := riskOf(t, login(env, "", "alice", pw, from("203.0.113.50", "other/2.0")))
	if lvl != "medium" || reason != "new_ip,new_user_agent" || m["access_token"] == nil {
		t.Fatalf("new device: level %s reason %q: %v", lvl, reason, m)
	}
	// A failed attempt first makes the next new device high.
	if r := login(env, "", "alice", "wrong password!", from("203.0.113.60", "evil/6.6")); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.Status)
	}
	lvl, score, reason, m := riskOf(t, login(env, "", "alice", pw, from("203.0.113.60", "evil/6.6")))
	if lvl != "high" || score != 60 || reason != "new_ip,new_user_agent,recent_failures" {
		t.Fatalf("new device after failures: level %s score %v reason %q", lvl, score, reason)
	}
	if m["requires_mfa"] != true || m["access_token"] != nil || m["challenge_token"] == nil || m["mfa_check_reason"] != reason {
		t.Fatalf("not challenged: %v", m)
	}
	r := env.VerifyMFA("", m["challenge_token"].(string), "totp", env.TOTPCode(secret))
	if r.Status != http.StatusOK || r.JSON(t)["risk_level"] != "high" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	wantAudit(t, env, "login_high_risk", "mfa_challenged")
	// Verified, the device is known now.
	lvl, _, _, m = riskOf(t, login(env, "", "alice", pw, from("203.0.113.60", "evil/6.6")))
	if lvl != "low" || m["access_token"] == nil {
		t.Fatalf("after verification the device is still unknown: %v", m)
	}
}

func TestAdaptive_MediumThresholdChallengesANewDevice(t *testing.T) {
	env, _ := adaptiveUser(t, "medium")
	_, _, reason, m := riskOf(t, login(env, "", "alice", pw, from("203.0.113.50", "known/1.0")))
	if m["access_token"] == nil || reason != "new_ip" {
		t.Fatalf("new IP, known User-Agent (low) was challenged: %v", m)
	}
	_, _, reason, m = riskOf(t, login(env, "", "alice", pw, from("203.0.113.77", "other/2.0")))
	if m["requires_mfa"] != true || reason != "new_ip,new_user_agent" {
		t.Fatalf("new IP and User-Agent (medium) not challenged: %v", m)
	}
}

func TestMFAMode_OffNeverChallenges(t *testing.T) {
	env := servertest.New(t, servertest.Options{Env: withEnv(proxied, "GATEHOUSE_MFA_MODE", "off")})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	tk := env.Login("", "alice", pw)
	env.EnrollTOTP("", tk.AccessToken)
	login(env, "", "alice", "wrong password!", from("203.0.113.60", "evil/6.6"))
	lvl, _, _, m := riskOf(t, login(env, "", "alice", pw, from("203.0.113.60", "evil/6.6")))
	if lvl != "high" || m["access_token"] == nil || m["requires_mfa"] != nil || m["risk_assessment"].(map[string]any)["require_mfa"] != false {
		t.Fatalf("mode off: %v", m)
	}
}

func TestMFAMode_AlwaysChallengesEvenAKnownDevice(t *testing.T) {
	env, _, _ := enrolled(t, servertest.Options{})
	ch := env.LoginChallenged("", "alice", pw)
	if ch.MFACheckReason != "always" {
		t.Fatalf("mfa_check_reason on a known device in always mode = %q", ch.MFACheckReason)
	}
}

func TestClientIP_XForwardedForTrustRule(t *testing.T) {
	sessionIP := func(env *servertest.Env, hdr map[string]string) string {
		r := login(env, "", "alice", pw, hdr)
		access := r.JSON(t)["access_token"].(string)
		for _, s := range sessionsOf(t, env, access) {
			if s["current"] == true {
				return s["ip"].(string)
			}
		}
		t.Fatal("no current session")
		return ""
	}
	// Not a trusted proxy: the header is ignored and cannot make a device look new.
	env := servertest.New(t, servertest.Options{})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	if ip := sessionIP(env, from("203.0.113.9", "ua/1")); ip != "127.0.0.1" {
		t.Fatalf("untrusted X-Forwarded-For believed: %s", ip)
	}
	_, _, reason, _ := riskOf(t, login(env, "", "alice", pw, from("203.0.113.10", "ua/1")))
	if reason != "no_second_factor" {
		t.Fatalf("a spoofed X-Forwarded-For changed the risk: %q", reason)
	}

	// Trusted proxies: the right-most address that is not a trusted proxy.
	env = servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.0/8,10.0.0.0/8"}})
	env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	if ip := sessionIP(env, from("198.51.100.1, 203.0.113.5, 10.1.2.3", "ua/1")); ip != "203.0.113.5" {
		t.Fatalf("client IP behind trusted proxies = %s, want 203.0.113.5", ip)
	}
	_, _, reason, _ = riskOf(t, login(env, "", "alice", pw, from("192.0.2.1, 203.0.113.5", "ua/1")))
	if reason != "no_second_factor" {
		t.Fatalf("same client through the proxies looks new: %q", reason)
	}
	_, _, reason, _ = riskOf(t, login(env, "", "alice", pw, from("203.0.113.6", "ua/1")))
	if reason != "new_ip,no_second_factor" {
		t.Fatalf("another client through the proxies: %q", reason)
	}
}
