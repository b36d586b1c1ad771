package core

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// A sign-in does exactly one password computation whether the account is
// unknown, has no password, has an unreadable or out-of-bounds hash, or
// has a real one and the password is wrong: the work (and so the time)
// tells an attacker nothing about which.
func TestLoginPassword_SameWorkWithoutPassword(t *testing.T) {
	f := newAppFixture(t)
	ctx := t.Context()
	f.user(t, "nopass") // created without a password
	if _, err := f.svc.CreateUser(ctx, NewUser{TenantID: DefaultTenant, Username: "haspass", Password: "a real long password"}, Meta{}); err != nil {
		t.Fatal(err)
	}
	// A hash stored before the bounds existed: never computed.
	huge := newUser(DefaultTenant, "huge")
	huge.PasswordHash = "$argon2id$v=19$m=1048576,t=64,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	if err := f.st.CreateUser(ctx, huge); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"haspass", "nopass", "huge", "nobody"} {
		before := f.svc.hasher.Computed()
		_, err := f.svc.LoginPassword(ctx, PasswordLogin{TenantID: DefaultTenant, Username: name, Password: "a wrong password",
			Meta: Meta{IP: "198.51.100." + string(rune('1'+i))}})
		wantCode(t, name, err, CodeInvalidCredentials)
		if n := f.svc.hasher.Computed() - before; n != 1 {
			t.Errorf("%s: %d password computations, want 1 as for any wrong password", name, n)
		}
	}
}

func newUser(tenantID, username string) store.User {
	return store.User{TenantID: tenantID, ID: "id-" + username, Username: username, Status: store.StatusActive,
		Groups: []string{}, Roles: []string{}, Attributes: map[string]any{}}
}
