package admin_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/passkeytest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func TestAdmin_UserPasskeys(t *testing.T) {
	for _, st := range []struct {
		name string
		opts servertest.Options
	}{{"sqlite", servertest.Options{}}, {"postgres", servertest.Options{Postgres: true}}} {
		t.Run(st.name, func(t *testing.T) { testAdminPasskeys(t, st.opts) })
	}
}

func testAdminPasskeys(t *testing.T, opts servertest.Options) {
	env := servertest.New(t, opts)
	uid := env.CreateUser("", map[string]any{"username": "alice", "password": pw})
	tk := env.Login("", "alice", pw)
	a := passkeytest.New(servertest.PasskeyOrigin)
	pid := env.RegisterPasskey("", tk.AccessToken, a, "Phone")

	r := env.Admin("GET", "/admin/users/"+uid+"/passkeys", "", nil)
	var l struct {
		Passkeys []struct {
			ID, Name string
		} `json:"passkeys"`
	}
	r.Decode(t, &l)
	if r.Status != http.StatusOK || len(l.Passkeys) != 1 || l.Passkeys[0].ID != pid || l.Passkeys[0].Name != "Phone" {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("GET", "/admin/users/nobody/passkeys", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown user: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("GET", "/admin/users/"+uid+"/passkeys", "", nil); r.Status != http.StatusOK {
		t.Fatalf("list again: %d", r.Status)
	}
	// Another tenant's administrator sees nothing of it.
	if r := env.Admin("POST", "/admin/tenants", "", map[string]any{"id": "acme", "name": "Acme"}); r.Status != http.StatusCreated {
		t.Fatalf("tenant: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("DELETE", "/admin/users/"+uid+"/passkeys/"+pid, "acme", nil); r.Status != http.StatusNotFound {
		t.Errorf("remove under another tenant: %d %s", r.Status, r.Body)
	}

	if r := env.Admin("DELETE", "/admin/users/"+uid+"/passkeys/"+pid, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if r := env.Admin("DELETE", "/admin/users/"+uid+"/passkeys/"+pid, "", nil); r.Status != http.StatusNotFound {
		t.Errorf("remove again: %d %s", r.Status, r.Body)
	}
	if r := env.PasskeySignin("", a); r.Status != http.StatusUnauthorized {
		t.Errorf("sign-in with a removed passkey: %d %s", r.Status, r.Body)
	}
	var audit struct {
		Events []struct {
			Actor   string         `json:"actor"`
			Details map[string]any `json:"details"`
		} `json:"events"`
	}
	env.Admin("GET", "/admin/audit?type=passkey_removed", "", nil).Decode(t, &audit)
	if len(audit.Events) != 1 || audit.Events[0].Actor != "admin-key" || audit.Events[0].Details["passkey_id"] != pid {
		t.Errorf("passkey_removed events = %+v", audit.Events)
	}
}
