package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func testRevocationFeed(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	a := newFamily(t, s, "t1", "a", base)
	b := newFamily(t, s, "t2", "b", base)
	c := newFamily(t, s, "t1", "c", base.Add(day))
	order := []family{a, b, c}
	for i, f := range order {
		if _, _, err := s.RevokeSession(ctx, f.tenant, f.session.ID, base.Add(time.Duration(i+1)*time.Hour), "logout"); err != nil {
			t.Fatalf("RevokeSession(%s): %v", f.session.ID, err)
		}
	}

	all, err := s.ListRevocations(ctx, 0, 100)
	if err != nil {
		t.Fatalf("ListRevocations: %v", err)
	}
	if len(all) != 3 {
		t.Fatalf("ListRevocations = %+v, want 3 records", all)
	}
	for i, r := range all {
		f := order[i]
		if r.TenantID != f.tenant || r.SessionID != f.session.ID {
			t.Errorf("record %d = %+v, want %s/%s", i, r, f.tenant, f.session.ID)
		}
		if i > 0 && r.Seq <= all[i-1].Seq {
			t.Errorf("Seq not increasing: %d after %d", r.Seq, all[i-1].Seq)
		}
		sameTime(t, "revocation Exp", r.Exp, f.session.ExpiresAt)
		sameTime(t, "revocation RevokedAt", r.RevokedAt, base.Add(time.Duration(i+1)*time.Hour))
	}

	after, err := s.ListRevocations(ctx, all[0].Seq, 100)
	if err != nil || len(after) != 2 || after[0].Seq != all[1].Seq || after[1].Seq != all[2].Seq {
		t.Errorf("ListRevocations(after first) = %+v, %v; want the last two", after, err)
	}
	limited, err := s.ListRevocations(ctx, 0, 2)
	if err != nil || len(limited) != 2 || limited[0].Seq != all[0].Seq || limited[1].Seq != all[1].Seq {
		t.Errorf("ListRevocations(limit 2) = %+v, %v; want the first two", limited, err)
	}
	none, err := s.ListRevocations(ctx, all[2].Seq, 100)
	if err != nil || len(none) != 0 {
		t.Errorf("ListRevocations(after last) = %+v, %v; want none", none, err)
	}
}
