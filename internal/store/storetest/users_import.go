package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

func importOf(users ...store.User) []store.ImportUser {
	out := make([]store.ImportUser, len(users))
	for i, u := range users {
		out[i] = store.ImportUser{User: u}
	}
	return out
}

func outcomes(rs []store.ImportResult) []store.ImportOutcome {
	out := make([]store.ImportOutcome, len(rs))
	for i, r := range rs {
		out[i] = r.Outcome
	}
	return out
}

func wantOutcomes(t *testing.T, rs []store.ImportResult, want ...store.ImportOutcome) {
	t.Helper()
	got := outcomes(rs)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes = %v, want %v (results %+v)", got, want, rs)
	}
}

func testImportInsertsAndIsIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	batch := importOf(fullUser("t1", "u1", "alice"), fullUser("t1", "u2", "bob"), newUser("t1", "u3", "carol"))
	res, err := s.ImportUsers(ctx, "t1", batch, store.ImportOptions{OnConflict: store.ConflictSkip})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportInserted, store.ImportInserted, store.ImportInserted)
	for _, u := range batch {
		got, err := s.GetUser(ctx, "t1", u.ID)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", u.ID, err)
		}
		checkUser(t, got, u.User)
	}
	// The same batch again changes nothing.
	res, err = s.ImportUsers(ctx, "t1", batch, store.ImportOptions{OnConflict: store.ConflictSkip})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportSkipped, store.ImportSkipped, store.ImportSkipped)
	res, err = s.ImportUsers(ctx, "t1", batch[:1], store.ImportOptions{OnConflict: store.ConflictFail})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportFailed)
	if !errors.Is(res[0].Err, store.ErrConflict) {
		t.Fatalf("fail mode error %v, want ErrConflict", res[0].Err)
	}
}

func testImportConflictsPerRow(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	mustTenant(t, s, "t2")
	if err := s.CreateUser(ctx, fullUser("t1", "u1", "alice")); err != nil {
		t.Fatal(err)
	}
	// The same keys in another tenant are no conflict.
	if err := s.CreateUser(ctx, fullUser("t2", "x9", "zed")); err != nil {
		t.Fatal(err)
	}
	taken := newUser("t1", "u2", "ALICE") // username of u1, case-insensitively
	email := newUser("t1", "u3", "other")
	email.Email = "alice@example.COM"
	phone := newUser("t1", "u4", "third")
	phone.Phone = "+1555u1"
	dupInBatch := newUser("t1", "u5", "fresh")
	dupInBatch2 := newUser("t1", "u6", "Fresh")
	otherTenantKeys := fullUser("t1", "x9", "zed")
	res, err := s.ImportUsers(ctx, "t1", importOf(taken, email, phone, dupInBatch, dupInBatch2, otherTenantKeys),
		store.ImportOptions{OnConflict: store.ConflictSkip})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportFailed, store.ImportFailed, store.ImportFailed,
		store.ImportInserted, store.ImportFailed, store.ImportInserted)
	for _, i := range []int{0, 1, 2, 4} {
		if !errors.Is(res[i].Err, store.ErrConflict) {
			t.Errorf("row %d error %v, want ErrConflict", i, res[i].Err)
		}
	}
	for _, id := range []string{"u2", "u3", "u4", "u6"} {
		if _, err := s.GetUser(ctx, "t1", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("failed row %s was written: %v", id, err)
		}
	}
	if _, err := s.GetUser(ctx, "t1", "u5"); err != nil {
		t.Errorf("good row of a batch with bad rows not written: %v", err)
	}
}

func testImportMatchByUsername(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	if err := s.CreateUser(ctx, newUser("t1", "u1", "alice")); err != nil {
		t.Fatal(err)
	}
	noID := store.ImportUser{User: newUser("t1", "generated", "Alice"), MatchByUsername: true}
	noID.DisplayName = "Alice Updated"
	res, err := s.ImportUsers(ctx, "t1", []store.ImportUser{noID}, store.ImportOptions{OnConflict: store.ConflictSkip})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportSkipped)
	if res[0].ID != "u1" {
		t.Fatalf("skipped row reports id %q, want the stored u1", res[0].ID)
	}
	res, err = s.ImportUsers(ctx, "t1", []store.ImportUser{noID}, store.ImportOptions{OnConflict: store.ConflictUpdate})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportUpdated)
	got, err := s.GetUser(ctx, "t1", "u1")
	if err != nil || got.DisplayName != "Alice Updated" || got.Username != "Alice" {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if _, err := s.GetUser(ctx, "t1", "generated"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a user matched by username was inserted under the new id: %v", err)
	}
	// An explicit id that does not exist, with a taken username, is another user.
	res, err = s.ImportUsers(ctx, "t1", importOf(newUser("t1", "u9", "alice")), store.ImportOptions{OnConflict: store.ConflictUpdate})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportFailed)
}

func testImportUpdateKeepsCreatedAtAndPassword(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	orig := fullUser("t1", "u1", "alice")
	if err := s.CreateUser(ctx, orig); err != nil {
		t.Fatal(err)
	}
	upd := newUser("t1", "u1", "alice2")
	upd.CreatedAt = base.Add(50 * day)
	upd.UpdatedAt = base.Add(60 * day)
	upd.PasswordHash = ""
	upd.Roles, upd.Groups = []string{"r"}, []string{}
	res, err := s.ImportUsers(ctx, "t1", importOf(upd), store.ImportOptions{OnConflict: store.ConflictUpdate})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportUpdated)
	got, err := s.GetUser(ctx, "t1", "u1")
	if err != nil {
		t.Fatal(err)
	}
	want := upd
	want.CreatedAt = orig.CreatedAt
	want.PasswordHash, want.PasswordChangedAt = orig.PasswordHash, orig.PasswordChangedAt
	checkUser(t, got, want)
	// The old username and email are free again.
	if _, err := s.GetUserByLogin(ctx, "t1", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old username still finds the user: %v", err)
	}
	// A hash in the line replaces the stored one.
	upd.PasswordHash, upd.PasswordChangedAt = "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", base.Add(61*day)
	if _, err := s.ImportUsers(ctx, "t1", importOf(upd), store.ImportOptions{OnConflict: store.ConflictUpdate}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetUser(ctx, "t1", "u1")
	if got.PasswordHash != upd.PasswordHash || !got.PasswordChangedAt.Equal(upd.PasswordChangedAt) {
		t.Errorf("password not replaced: %q %v", got.PasswordHash, got.PasswordChangedAt)
	}
}

func testImportDryRunWritesNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	if err := s.CreateUser(ctx, newUser("t1", "u1", "alice")); err != nil {
		t.Fatal(err)
	}
	upd := newUser("t1", "u1", "renamed")
	res, err := s.ImportUsers(ctx, "t1", importOf(newUser("t1", "u2", "bob"), upd, newUser("t1", "u3", "ALICE")),
		store.ImportOptions{OnConflict: store.ConflictUpdate, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes(t, res, store.ImportInserted, store.ImportUpdated, store.ImportFailed)
	if _, err := s.GetUser(ctx, "t1", "u2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dry run inserted: %v", err)
	}
	if got, _ := s.GetUser(ctx, "t1", "u1"); got.Username != "alice" {
		t.Errorf("dry run updated: %q", got.Username)
	}
}

func testImportLargeBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	batch := make([]store.ImportUser, 1500)
	for i := range batch {
		u := newUser("t1", fmt.Sprintf("id%05d", i), fmt.Sprintf("user%05d", i))
		u.Email = fmt.Sprintf("user%05d@example.com", i)
		u.CreatedAt = base.Add(time.Duration(i) * time.Second)
		batch[i] = store.ImportUser{User: u}
	}
	res, err := s.ImportUsers(ctx, "t1", batch, store.ImportOptions{OnConflict: store.ConflictSkip})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.ImportInserted {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	users, err := s.ListUsers(ctx, "t1", store.ListUsersParams{Limit: 1000})
	if err != nil || len(users) != 1000 {
		t.Fatalf("ListUsers = %d, %v", len(users), err)
	}
	last, err := s.GetUserByLogin(ctx, "t1", "USER01499@example.com")
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, last, batch[1499].User)
}

func testImportUnknownTenant(t *testing.T, s store.Store) {
	_, err := s.ImportUsers(t.Context(), "nope", importOf(newUser("nope", "u1", "alice")), store.ImportOptions{OnConflict: store.ConflictSkip})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("import into an unknown tenant: %v, want ErrNotFound", err)
	}
}

// Concurrent imports of the same users (two operators, or an import and
// its retry) write each user once: one run inserts it, the others skip it,
// and none fails as a whole.
func testImportConcurrentSameUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustTenant(t, s, "t1")
	batch := make([]store.ImportUser, 200)
	for i := range batch {
		u := newUser("t1", fmt.Sprintf("c%04d", i), fmt.Sprintf("conc%04d", i))
		u.Email = fmt.Sprintf("conc%04d@example.com", i)
		batch[i] = store.ImportUser{User: u}
	}
	const runs = 4
	results := make([][]store.ImportResult, runs)
	errs := make([]error, runs)
	start := make(chan struct{})
	done := make(chan int, runs)
	for r := range runs {
		go func() {
			<-start
			results[r], errs[r] = s.ImportUsers(ctx, "t1", batch, store.ImportOptions{OnConflict: store.ConflictSkip})
			done <- r
		}()
	}
	close(start)
	for range runs {
		<-done
	}
	inserted := make([]int, len(batch))
	for r := range runs {
		if errs[r] != nil {
			t.Fatalf("run %d: %v", r, errs[r])
		}
		for i, res := range results[r] {
			switch res.Outcome {
			case store.ImportInserted:
				inserted[i]++
			case store.ImportSkipped:
			default:
				t.Fatalf("run %d row %d: %+v", r, i, res)
			}
		}
	}
	for i, n := range inserted {
		if n != 1 {
			t.Fatalf("row %d inserted by %d runs, want exactly 1", i, n)
		}
	}
	users, err := s.ListUsers(ctx, "t1", store.ListUsersParams{Limit: 1000})
	if err != nil || len(users) != len(batch) {
		t.Fatalf("%d users stored, %v", len(users), err)
	}
}
