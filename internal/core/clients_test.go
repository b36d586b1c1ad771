package core

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestCreateClient_SecretShownOnceStoredAsHash(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	ic, err := f.svc.CreateClient(ctx, NewClient{TenantID: DefaultTenant, Name: "  Shop  ", GrantTypes: []string{"refresh_token", "refresh_token", "password"},
		Scopes: []string{"openid", "openid", "profile"}}, Meta{Actor: "admin-key"})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(ic.Secret)
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not 256 bits of URL-safe base64", ic.Secret)
	}
	if _, err := base64.RawURLEncoding.DecodeString(ic.Client.ID); err != nil || len(ic.Client.ID) < 22 {
		t.Fatalf("client id %q is not URL-safe base64 of 128 bits", ic.Client.ID)
	}
	stored, err := f.st.GetClient(ctx, DefaultTenant, ic.Client.ID)
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	sum := sha256.Sum256([]byte(ic.Secret))
	if stored.SecretHash != hex.EncodeToString(sum[:]) || strings.Contains(stored.SecretHash, ic.Secret) {
		t.Fatalf("stored secret hash %q is not the SHA-256 of the secret", stored.SecretHash)
	}
	if stored.Name != "Shop" || strings.Join(stored.GrantTypes, ",") != "refresh_token,password" || strings.Join(stored.Scopes, ",") != "openid,profile" {
		t.Fatalf("stored client %+v: name not trimmed or lists not de-duplicated", stored)
	}
	events, err := f.svc.ListAudit(ctx, AuditQuery{TenantID: DefaultTenant, Type: EventClientCreated})
	if err != nil || len(events) != 1 || events[0].Details["client_id"] != ic.Client.ID || events[0].Actor != "admin-key" {
		t.Fatalf("client_created audit: %v %+v", err, events)
	}
	for _, e := range events {
		for _, v := range e.Details {
			if s, ok := v.(string); ok && strings.Contains(s, ic.Secret) {
				t.Fatal("the audit event holds the secret")
			}
		}
	}
}

func TestCreateClient_Validation(t *testing.T) {
	f := newAppFixture(t)
	for name, in := range map[string]NewClient{
		"no name":           {Name: "  "},
		"long name":         {Name: strings.Repeat("n", 201)},
		"control in name":   {Name: "a\x00b"},
		"unknown grant":     {Name: "x", GrantTypes: []string{"implicit"}},
		"public client_cc":  {Name: "x", Public: true, GrantTypes: []string{"client_credentials"}},
		"scope with space":  {Name: "x", Scopes: []string{"a b"}},
		"empty scope":       {Name: "x", Scopes: []string{""}},
		"scope with quote":  {Name: "x", Scopes: []string{`a"b`}},
		"too many scopes":   {Name: "x", Scopes: strings.Split(strings.Repeat("s,", 51)[:101], ",")},
		"scope of 129 char": {Name: "x", Scopes: []string{strings.Repeat("s", 129)}},
	} {
		in.TenantID = DefaultTenant
		_, err := f.svc.CreateClient(t.Context(), in, Meta{})
		wantCode(t, name, err, CodeInvalidRequest)
	}
	_, err := f.svc.CreateClient(t.Context(), NewClient{TenantID: "nope", Name: "x"}, Meta{})
	wantCode(t, "unknown tenant", err, CodeNotFound)
	list, err := f.svc.ListClients(t.Context(), DefaultTenant)
	if err != nil || len(list) != 0 {
		t.Fatalf("invalid requests created clients: %v %v", list, err)
	}
}

func TestPublicClient_NoSecretNoRotation(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	ic, err := f.svc.CreateClient(ctx, NewClient{TenantID: DefaultTenant, Name: "spa", Public: true, GrantTypes: []string{"refresh_token"}}, Meta{})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if ic.Secret != "" || ic.Client.SecretHash != "" {
		t.Fatalf("a public client got a secret: %+v", ic)
	}
	_, err = f.svc.RotateClientSecret(ctx, DefaultTenant, ic.Client.ID, Meta{})
	wantCode(t, "rotate a public client", err, CodeInvalidRequest)
	if _, err := f.svc.AuthenticateClient(ctx, ic.Client.ID, "", Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("a public client authenticates by its id: %v", err)
	}
	_, err = f.svc.AuthenticateClient(ctx, ic.Client.ID, "guess", Meta{IP: "192.0.2.1"})
	wantCode(t, "public client with a secret", err, CodeInvalidClient)
}

func TestAuthenticateClient_RotateAndDelete(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, secret := f.client(t, "shop")
	m := Meta{IP: "192.0.2.1"}
	got, err := f.svc.AuthenticateClient(ctx, c.ID, secret, m)
	if err != nil || got.ID != c.ID || got.TenantID != DefaultTenant {
		t.Fatalf("AuthenticateClient: %+v %v", got, err)
	}
	for name, sec := range map[string]string{"wrong": secret[:42] + "x", "empty": "", "long": strings.Repeat("s", 10000)} {
		_, err := f.svc.AuthenticateClient(ctx, c.ID, sec, Meta{IP: "192.0.2.50"})
		wantCode(t, name+" secret", err, CodeInvalidClient)
		f.clock.Advance(appTestPolicy.LoginLockout + time.Second) // forget the failure
	}

	ic, err := f.svc.RotateClientSecret(ctx, DefaultTenant, c.ID, Meta{})
	if err != nil || ic.Secret == "" || ic.Secret == secret {
		t.Fatalf("RotateClientSecret: %+v %v", ic, err)
	}
	_, err = f.svc.AuthenticateClient(ctx, c.ID, secret, m)
	wantCode(t, "old secret after rotation (same process: at once)", err, CodeInvalidClient)
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, ic.Secret, m); err != nil {
		t.Fatalf("new secret: %v", err)
	}

	if err := f.svc.DeleteClient(ctx, DefaultTenant, c.ID, Meta{}); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err = f.svc.AuthenticateClient(ctx, c.ID, ic.Secret, m)
	wantCode(t, "deleted client (same process: at once)", err, CodeInvalidClient)
	wantCode(t, "delete again", f.svc.DeleteClient(ctx, DefaultTenant, c.ID, Meta{}), CodeNotFound)
	_, err = f.svc.GetClient(ctx, DefaultTenant, c.ID)
	wantCode(t, "get deleted", err, CodeNotFound)
}

// TestAuthenticateClient_KnownClientNeedsNoStore: once read, a client
// authenticates from memory; the store is not asked again.
func TestAuthenticateClient_KnownClientNeedsNoStore(t *testing.T) {
	f := newAppFixture(t)
	c, secret := f.client(t, "shop")
	if _, err := f.svc.AuthenticateClient(t.Context(), c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("first authentication: %v", err)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := f.svc.AuthenticateClient(t.Context(), c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
			t.Fatalf("authentication with the store closed: %v", err)
		}
	}
	f.clock.Advance(ClientCacheTTL)
	_, err := f.svc.AuthenticateClient(t.Context(), c.ID, secret, Meta{IP: "192.0.2.1"})
	if ErrorCode(err) != CodeUnavailable {
		t.Fatalf("after ClientCacheTTL the client must be read again: error = %v", err)
	}
}

// TestAuthenticateClient_OtherProcessWithinTTL: a rotation made by another
// process sharing the database is honoured here within ClientCacheTTL.
func TestAuthenticateClient_OtherProcessWithinTTL(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, secret := f.client(t, "shop")
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	other, _ := openAppService(t, f.path, f.clock)
	ic, err := other.RotateClientSecret(ctx, DefaultTenant, c.ID, Meta{})
	if err != nil {
		t.Fatalf("rotate in the other process: %v", err)
	}
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("within the cache TTL the old secret still works here: %v", err)
	}
	f.clock.Advance(ClientCacheTTL + time.Second)
	_, err = f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"})
	wantCode(t, "old secret after the cache TTL", err, CodeInvalidClient)
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, ic.Secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

func TestAuthenticateClient_FailuresThrottled(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, secret := f.client(t, "shop")
	attacker := Meta{IP: "203.0.113.66"}
	for i := range appTestPolicy.LoginMaxFailures - 1 {
		_, err := f.svc.AuthenticateClient(ctx, c.ID, "guess", attacker)
		wantCode(t, "failure "+string(rune('1'+i)), err, CodeInvalidClient)
	}
	_, err := f.svc.AuthenticateClient(ctx, c.ID, "guess", attacker)
	wantCode(t, "the failure that locks", err, CodeTooManyAttempts)
	// Locked from that address: even the right secret is refused, without evaluation.
	_, err = f.svc.AuthenticateClient(ctx, c.ID, secret, attacker)
	wantCode(t, "right secret while locked", err, CodeTooManyAttempts)
	if ce := AsError(err); ce.RetryAfter <= 0 || ce.RetryAfter > appTestPolicy.LoginLockout {
		t.Fatalf("RetryAfter = %v", ce.RetryAfter)
	}
	// The client's own servers elsewhere are not locked out by a stranger.
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("the client from its own address: %v", err)
	}
	events, _ := f.svc.ListAudit(ctx, AuditQuery{TenantID: DefaultTenant, Type: EventClientAuthFailed})
	if len(events) != appTestPolicy.LoginMaxFailures {
		t.Fatalf("%d client_auth_failed events, want %d", len(events), appTestPolicy.LoginMaxFailures)
	}
	f.clock.Advance(appTestPolicy.LoginLockout)
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, secret, attacker); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

func TestAuthenticateClient_UnknownIDsThrottledByAddress(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	m := Meta{IP: "203.0.113.77"}
	ids := []string{"", "unknown", strings.Repeat("x", 5000), "bad id!", "x' OR '1'='1"}
	var err error
	for i := range appTestPolicy.IPMaxFailures {
		_, err = f.svc.AuthenticateClient(ctx, ids[i%len(ids)], "secret", m)
		if i < appTestPolicy.IPMaxFailures-1 {
			wantCode(t, "unknown client", err, CodeInvalidClient)
		}
	}
	wantCode(t, "the failure that locks the address", err, CodeTooManyAttempts)
	c, secret := f.client(t, "shop")
	_, err = f.svc.AuthenticateClient(ctx, c.ID, secret, m)
	wantCode(t, "a real client from the locked address", err, CodeTooManyAttempts)
	th, err := f.st.GetThrottle(ctx, clientThrottleTenant, "client-ip:"+m.IP)
	if err != nil || th.LockedUntil.IsZero() {
		t.Fatalf("the lock is not in the store for other processes: %+v %v", th, err)
	}
}

func TestUpdateClient_PatchAndInvalidate(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	c, secret := f.client(t, "shop")
	if _, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	name := "Shop 2"
	grants := []string{"client_credentials"}
	got, err := f.svc.UpdateClient(ctx, DefaultTenant, c.ID, ClientPatch{Name: &name, GrantTypes: &grants}, Meta{})
	if err != nil || got.Name != name || len(got.GrantTypes) != 1 || got.SecretHash != c.SecretHash {
		t.Fatalf("UpdateClient: %+v %v", got, err)
	}
	authed, err := f.svc.AuthenticateClient(ctx, c.ID, secret, Meta{IP: "192.0.2.1"})
	if err != nil || authed.Name != name {
		t.Fatalf("the cache still holds the old client: %+v %v", authed, err)
	}
	bad := []string{"bogus"}
	_, err = f.svc.UpdateClient(ctx, DefaultTenant, c.ID, ClientPatch{GrantTypes: &bad}, Meta{})
	wantCode(t, "bad grant", err, CodeInvalidRequest)
	_, err = f.svc.UpdateClient(ctx, "other", c.ID, ClientPatch{Name: &name}, Meta{})
	wantCode(t, "other tenant", err, CodeNotFound)
}

func TestTTLCache_Bounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTTLCache[int](64)
	for i := range 1000 {
		c.put(string(rune(0x4e00+i)), i, now.Add(time.Hour), now)
		if c.len() > 64 {
			t.Fatalf("cache holds %d entries, bound 64", c.len())
		}
	}
	c.put("expiring", 1, now.Add(time.Second), now)
	if _, ok := c.get("expiring", now); !ok {
		t.Fatal("fresh entry missing")
	}
	if _, ok := c.get("expiring", now.Add(time.Second)); ok {
		t.Fatal("expired entry returned")
	}
	c.forget("expiring")
	if _, ok := c.get("expiring", now); ok {
		t.Fatal("forgotten entry returned")
	}
}
