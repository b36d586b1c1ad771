package core

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// maxKnownPerKind bounds the known IPs and the known User-Agents kept per
// user; the least recently seen are forgotten first.
const maxKnownPerKind = 20

// maxUserAgentLen bounds the User-Agent that is hashed.
const maxUserAgentLen = 512

// RiskAssessment is the risk of one password sign-in, as every password
// sign-in response reports it.
type RiskAssessment struct {
	Level string
	Score int
	// RequireMFA: the policy asks for a second factor on this sign-in (see
	// Policy.requiresSecondFactor). When the user has none, no challenge can
	// be issued and RecommendedMethods names what to enrol.
	RequireMFA bool
	// RecommendedMethods are the methods the user can complete a challenge
	// with, or ["totp"] to enrol when the user has no factor.
	RecommendedMethods []string
	// Signals are the signals that fired.
	Signals []string
}

// Reason is the mfa_check_reason: the fired signals, comma-separated.
func (r RiskAssessment) Reason() string { return strings.Join(r.Signals, ",") }

// userFactors is what the MFA policy needs to know of a user's factors.
type userFactors struct {
	totp          *store.MFAFactor // the confirmed TOTP factor, nil when none
	pending       *store.MFAFactor // the pending TOTP factor, nil when none
	recoveryCodes int              // unused recovery codes
	passkeys      int              // registered passkeys
}

// has reports whether the user has any second factor: a confirmed TOTP
// factor or a passkey.
func (f userFactors) has() bool { return f.totp != nil || f.passkeys > 0 }

// methods are the methods that can complete a challenge for the user.
func (f userFactors) methods() []string {
	out := []string{}
	if f.totp != nil {
		out = append(out, MethodTOTP)
		if f.recoveryCodes > 0 {
			out = append(out, MethodRecoveryCode)
		}
	}
	if f.passkeys > 0 {
		out = append(out, MethodWebAuthn)
	}
	return out
}

// loadFactors reads the user's factors.
func (s *Service) loadFactors(ctx context.Context, u store.User) (userFactors, error) {
	fs, err := s.store.ListFactors(ctx, u.TenantID, u.ID)
	if err != nil {
		return userFactors{}, fmt.Errorf("list factors: %w", err)
	}
	var out userFactors
	for i := range fs {
		if fs[i].Kind != store.FactorTOTP {
			continue
		}
		if fs[i].Active() {
			out.totp = &fs[i]
		} else {
			out.pending = &fs[i]
		}
	}
	if out.totp != nil {
		if out.recoveryCodes, err = s.store.CountRecoveryCodes(ctx, u.TenantID, u.ID); err != nil {
			return userFactors{}, fmt.Errorf("count recovery codes: %w", err)
		}
	}
	if s.rp != nil {
		pks, err := s.store.ListPasskeys(ctx, u.TenantID, u.ID)
		if err != nil {
			return userFactors{}, fmt.Errorf("list passkeys: %w", err)
		}
		out.passkeys = len(pks)
	}
	return out, nil
}

// deviceMarks are the keyed hashes of the client IP and User-Agent of m for
// user u. The tenant and user are part of the hash, so the same address
// gives unrelated hashes for two users.
func (s *Service) deviceMarks(u store.User, m Meta) []store.DeviceMark {
	ua := m.UserAgent
	if len(ua) > maxUserAgentLen {
		ua = ua[:maxUserAgentLen]
	}
	return []store.DeviceMark{
		{Kind: store.DeviceIP, Hash: s.ipMark(u, m.IP)},
		{Kind: store.DeviceUserAgent, Hash: s.keyed.Sum("device", u.TenantID, u.ID, store.DeviceUserAgent, ua)},
	}
}

// ipMark is the keyed hash of a client IP of user u, as known devices keep it.
func (s *Service) ipMark(u store.User, ip string) string {
	return s.keyed.Sum("device", u.TenantID, u.ID, store.DeviceIP, ip)
}

// recentFailures is the failure count of a throttle key within the failure window.
func (s *Service) recentFailures(ctx context.Context, tenantID, key string, now time.Time) (int, error) {
	th, err := s.store.GetThrottle(ctx, tenantID, key)
	if err != nil {
		return 0, fmt.Errorf("read throttle: %w", err)
	}
	if th.Failures == 0 || now.Sub(th.FirstAt) > s.policy.failureWindow() {
		return 0, nil
	}
	return th.Failures, nil
}

// assessRisk gathers the signals of a password sign-in by u from the
// password check pc (the known devices it read and the failures counted
// before it) and scores them.
func (s *Service) assessRisk(ctx context.Context, u store.User, f userFactors, m Meta, now time.Time, pc passwordCheck) (RiskAssessment, error) {
	devices := pc.devices
	sig := RiskSignals{NewIP: true, NewUserAgent: true, HasSecondFactor: f.has()}
	marks := s.deviceMarks(u, m)
	var last time.Time
	for _, d := range devices {
		if d.LastSeen.After(last) {
			last = d.LastSeen
		}
		for _, mk := range marks {
			if d.Kind == mk.Kind && d.Hash == mk.Hash {
				switch d.Kind {
				case store.DeviceIP:
					sig.NewIP = false
				case store.DeviceUserAgent:
					sig.NewUserAgent = false
				}
			}
		}
	}
	if !last.IsZero() && now.After(last) {
		sig.SinceLastSignIn = now.Sub(last)
	}
	sig.UserFailures = pc.attempt.count(ScopeAccount) + pc.attempt.count(ScopeFamiliarAddress)
	sig.IPFailures = pc.attempt.count(ScopeIP)
	if pc.familiar {
		// Failures from elsewhere are recent failures of the account too.
		n, err := s.recentFailures(ctx, u.TenantID, pc.sharedKey, now)
		if err != nil {
			return RiskAssessment{}, err
		}
		sig.UserFailures += n
	}
	score := AssessRisk(sig)
	ra := RiskAssessment{
		Level:      score.Level,
		Score:      score.Score,
		RequireMFA: s.policy.requiresSecondFactor(score.Level, f.has()),
		Signals:    score.Signals,
	}
	ra.RecommendedMethods = f.methods()
	if !f.has() {
		ra.RecommendedMethods = []string{MethodTOTP}
	}
	return ra, nil
}

// rememberDevices records the client IP and User-Agent of a successful
// sign-in. A failure only costs the memory of the device: it is logged.
func (s *Service) rememberDevices(ctx context.Context, u store.User, m Meta) {
	if err := s.store.RememberDevices(ctx, u.TenantID, u.ID, s.deviceMarks(u, m), s.clock.Now(), maxKnownPerKind); err != nil {
		s.log.WarnContext(ctx, "known devices not recorded", "tenant", u.TenantID, "user", u.ID, "err", err)
	}
}

// keyedHashOrRandom returns k, or a keyed hash under a random key when k is
// nil (known devices are then forgotten when the process restarts).
func keyedHashOrRandom(k *token.KeyedHash) *token.KeyedHash {
	if k != nil {
		return k
	}
	key := make([]byte, token.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	k, err := token.NewKeyedHash(key, "known-devices")
	if err != nil {
		panic("keyed hash: " + err.Error())
	}
	return k
}

// passwordRisk assesses a password sign-in of u whose password was right,
// and writes login_high_risk when the risk is high.
func (s *Service) passwordRisk(ctx context.Context, u store.User, in PasswordLogin, now time.Time, pc passwordCheck) (userFactors, RiskAssessment, error) {
	f, err := s.loadFactors(ctx, u)
	if err != nil {
		return userFactors{}, RiskAssessment{}, err
	}
	risk, err := s.assessRisk(ctx, u, f, in.Meta, now, pc)
	if err != nil {
		return userFactors{}, RiskAssessment{}, err
	}
	if risk.Level == RiskHigh {
		s.audit(ctx, event(EventLoginHighRisk, u.TenantID, u.ID, in.Meta,
			map[string]any{"risk_score": risk.Score, "signals": risk.Reason(), "client_id": in.ClientID}))
	}
	return f, risk, nil
}
