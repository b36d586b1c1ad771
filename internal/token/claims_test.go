package token

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestClaims_JSONShape(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := Claims{
		Issuer: testIssuer, Subject: "u", Audience: []string{"a"},
		ExpiresAt: now.Add(time.Minute), IssuedAt: now, ID: "j", SessionID: "s", TenantID: "t",
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["aud"] != "a" {
		t.Errorf("single aud = %#v, want a string", m["aud"])
	}
	if r, ok := m["roles"].([]any); !ok || len(r) != 0 {
		t.Errorf("roles = %#v, want []", m["roles"])
	}
	if m["exp"] != float64(now.Add(time.Minute).Unix()) || m["iat"] != float64(now.Unix()) {
		t.Errorf("exp/iat = %v/%v", m["exp"], m["iat"])
	}
	for _, absent := range []string{"act", "scope", "payload", "pwd_change_required", "nbf", "amr", "client_id"} {
		if _, ok := m[absent]; ok {
			t.Errorf("%s present although empty: %s", absent, b)
		}
	}

	c.Audience = []string{"a", "b"}
	c.Actor, c.Scope, c.Payload, c.Restricted = "admin-1", "openid", "p", true
	c.NotBefore = now
	b, _ = json.Marshal(c)
	m = nil
	_ = json.Unmarshal(b, &m)
	if !reflect.DeepEqual(m["aud"], []any{"a", "b"}) {
		t.Errorf("two audiences = %#v, want an array", m["aud"])
	}
	if !reflect.DeepEqual(m["act"], map[string]any{"sub": "admin-1"}) {
		t.Errorf("act = %#v", m["act"])
	}
	if m["pwd_change_required"] != true || m["scope"] != "openid" || m["payload"] != "p" || m["nbf"] == nil {
		t.Errorf("optional claims missing: %s", b)
	}
}

func TestClaims_RoundTrip(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, aud := range [][]string{{"one"}, {"one", "two"}} {
		c := claimsAt(now)
		c.Audience, c.Actor, c.Scope, c.Payload, c.Restricted = aud, "admin", "s", "pl", true
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var got Claims
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
		}
	}
}

func TestClaims_UnmarshalAcceptsStringOrArrayAud(t *testing.T) {
	for in, want := range map[string][]string{
		`{"aud":"x"}`:       {"x"},
		`{"aud":["x","y"]}`: {"x", "y"},
	} {
		var c Claims
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(c.Audience, want) {
			t.Errorf("%s: aud = %v, want %v", in, c.Audience, want)
		}
	}
	var c Claims
	if err := json.Unmarshal([]byte(`{"aud":5}`), &c); err == nil {
		t.Error("numeric aud accepted")
	}
}
