package names

import "testing"

func TestUsername(t *testing.T) {
	ok := map[string]string{
		"alice":        "alice",
		"Alice":        "alice",
		"ALICE":        "alice",
		"ａｌｉｃｅ":        "alice",
		"Ａｌｉｃｅ":        "alice",
		"jörg":         "jörg",
		"JÖRG":         "jörg",
		"jo\u0308rg":   "jörg", // NFC
		"user@example": "user@example",
		"a.b-c_d":      "a.b-c_d",
	}
	for in, want := range ok {
		got, err := Username(in)
		if err != nil || got != want {
			t.Errorf("Username(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "al ice", " alice", "ali\u200bce", "ali\u200dce", "ali\x00ce", "ali\nce",
		"ali\tce", "ali\u202ece", "\u00a0alice", "alice\u3000"} {
		if got, err := Username(in); err == nil {
			t.Errorf("Username(%q) = %q, want refused", in, got)
		}
	}
}

func TestEmailKey(t *testing.T) {
	for in, want := range map[string]string{
		"Kelly@Example.COM":  "kelly@example.com",
		"\u212Aelly@x.test":  "\u212Aelly@x.test", // the Kelvin sign stays itself
		"JÖRG@x.test":        "jÖrg@x.test",
		"already@lower.test": "already@lower.test",
	} {
		if got := EmailKey(in); got != want {
			t.Errorf("EmailKey(%q) = %q, want %q", in, got, want)
		}
	}
	if !IsASCII("kelly@x.test") || IsASCII("\u212Aelly@x.test") {
		t.Error("IsASCII is wrong")
	}
}

func TestUsernameKey(t *testing.T) {
	if UsernameKey("Ａlice") != "alice" || UsernameKey("John Doe") != "john doe" {
		t.Errorf("UsernameKey: %q %q", UsernameKey("Ａlice"), UsernameKey("John Doe"))
	}
}

func TestPlanRekey(t *testing.T) {
	rows := []Stored{
		{Tenant: "t", ID: "1", Username: "ａｌｉｃｅ", Key: "ａｌｉｃｅ"},                                          // older, but "alice" is held
		{Tenant: "t", ID: "2", Username: "Alice", Key: "alice", Email: "A@X.test", EmailKey: "a@x.test"}, // holds "alice"
		{Tenant: "t", ID: "3", Username: "ＢＯＢ", Key: "ｂｏｂ"},                                              // moves to "bob"
		{Tenant: "t", ID: "4", Username: "Ｂｏｂ", Key: "ｂｏｂ2"},                                             // "bob" taken in this plan
		{Tenant: "t", ID: "5", Username: "John Doe", Key: "john doe"},                                    // refused by the profile
		{Tenant: "u", ID: "6", Username: "ａｌｉｃｅ", Key: "ａｌｉｃｅ"},                                          // other tenant: free
		{Tenant: "t", ID: "7", Username: "k", Key: "k", Email: "\u212Aelly@x.test", EmailKey: "kelly@x.test"},
	}
	got := map[string]Rekey{}
	for _, r := range PlanRekey(rows) {
		got[r.ID] = r
	}
	want := map[string]Rekey{
		"1": {Tenant: "t", ID: "1", Key: "ａｌｉｃｅ", Legacy: LegacyCollision},
		"3": {Tenant: "t", ID: "3", Key: "bob"},
		"4": {Tenant: "t", ID: "4", Key: "ｂｏｂ2", Legacy: LegacyCollision},
		"5": {Tenant: "t", ID: "5", Key: "john doe", Legacy: LegacyRefused},
		"6": {Tenant: "u", ID: "6", Key: "alice"},
		"7": {Tenant: "t", ID: "7", Key: "k", EmailKey: "\u212Aelly@x.test"},
	}
	if len(got) != len(want) {
		t.Errorf("plan = %+v, want %+v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("user %s: %+v, want %+v", id, got[id], w)
		}
	}
}
