package server_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestStartup_ReportsUsernameCollisions: a server starting on a database
// with users that kept a legacy username logs how many, per tenant, and
// points at the admin endpoint; it never logs the names.
func TestStartup_ReportsUsernameCollisions(t *testing.T) {
	first := servertest.New(t, servertest.Options{})
	first.CreateUser("", map[string]any{"username": "alice"})
	other := first.CreateUser("", map[string]any{"username": "placeholder"})
	first.Exec(`UPDATE users SET username = 'ａｌｉｃｅ', username_lower = 'ａｌｉｃｅ', username_legacy = 1 WHERE id = '` + other + `'`)
	if strings.Contains(first.Logs.String(), "username-collisions") {
		t.Fatal("the first start already reported collisions")
	}
	second := servertest.New(t, servertest.Options{Env: map[string]string{"GATEHOUSE_DB": first.DB}})
	logs := second.Logs.String()
	if !strings.Contains(logs, "GET /admin/username-collisions") || !strings.Contains(logs, `"users":1`) ||
		!strings.Contains(logs, `"tenant":"default"`) {
		t.Errorf("start-up log lacks the collision report:\n%.3000s", logs)
	}
	if strings.Contains(logs, "ａｌｉｃｅ") {
		t.Error("the start-up log names the user")
	}
}
