package core

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Audit event types of bulk imports. One pair per run, not one event per
// user: a million user_created events would bury everything else.
const (
	EventUsersImportStarted = "users_import_started"
	EventUsersImported      = "users_imported"
	EventUsersExported      = "users_exported"
)

// exportPage is how many users one read of ExportUsers fetches.
const exportPage = 1000

// ExportUsers calls fn with every user of the tenant in id order, password
// hashes included, and records the export (hashes leave the database).
// It pages through the tenant, so users created or changed while it runs
// may or may not be seen: it is not a snapshot.
func (s *Service) ExportUsers(ctx context.Context, tenantID, target string, m Meta, fn func(store.User) error) (int, error) {
	if _, err := s.store.GetTenant(ctx, tenantID); err != nil {
		return 0, storeErr(err, "tenant")
	}
	n, after := 0, ""
	for {
		users, err := s.store.ListUsers(ctx, tenantID, store.ListUsersParams{AfterID: after, Limit: exportPage})
		if err != nil {
			return n, fmt.Errorf("export users: %w", err)
		}
		for _, u := range users {
			if err := fn(u); err != nil {
				return n, err
			}
			n++
		}
		if len(users) < exportPage {
			break
		}
		after = users[len(users)-1].ID
	}
	s.audit(ctx, event(EventUsersExported, tenantID, "", m, map[string]any{"target": target, "users": n}))
	return n, nil
}

// ImportOptions shape an import run.
type ImportOptions struct {
	OnConflict store.OnConflict // skip (default), update or fail
	DryRun     bool             // validate and report, write nothing
}

// ImportLine is one decoded user of an import file. Err, when set, is why
// the line could not be decoded; the line is then reported as failed.
type ImportLine struct {
	Line     int
	User     NewUser
	Firebase *password.FirebaseScrypt
	Err      error
}

// ImportResult is what happened to one line.
type ImportResult struct {
	Line    int
	Outcome store.ImportOutcome
	ID      string // the stored user's id, unless the line failed
	Err     error  // why the line failed
}

// ImportSummary counts the outcomes of a run.
type ImportSummary struct {
	Imported, Updated, Skipped, Failed int
}

// Add counts one result.
func (c *ImportSummary) Add(r ImportResult) {
	switch r.Outcome {
	case store.ImportInserted:
		c.Imported++
	case store.ImportUpdated:
		c.Updated++
	case store.ImportSkipped:
		c.Skipped++
	default:
		c.Failed++
	}
}

// StartImport checks that the tenant exists and records the start of an
// import run.
func (s *Service) StartImport(ctx context.Context, tenantID, source string, opts ImportOptions, m Meta) error {
	if _, err := s.store.GetTenant(ctx, tenantID); err != nil {
		return storeErr(err, "tenant")
	}
	if opts.OnConflict == "" {
		opts.OnConflict = store.ConflictSkip
	}
	if !opts.DryRun {
		s.audit(ctx, event(EventUsersImportStarted, tenantID, "", m,
			map[string]any{"source": source, "on_conflict": string(opts.OnConflict)}))
	}
	return nil
}

// FinishImport records the end of an import run with its counts.
func (s *Service) FinishImport(ctx context.Context, tenantID, source string, opts ImportOptions, sum ImportSummary, m Meta) {
	if opts.DryRun {
		return
	}
	s.audit(ctx, event(EventUsersImported, tenantID, "", m, map[string]any{
		"source": source, "imported": sum.Imported, "updated": sum.Updated,
		"skipped": sum.Skipped, "failed": sum.Failed,
	}))
}

// ImportUsers validates a batch of lines exactly as CreateUser validates a
// new user, then writes the valid ones in one store transaction, and
// returns one result per line. A line that fails never stops the batch; an
// error means the store could not be used at all (the run should stop).
// Updated users that are no longer active lose their sessions, as with an
// administrator's PATCH.
func (s *Service) ImportUsers(ctx context.Context, tenantID string, lines []ImportLine, opts ImportOptions, m Meta) ([]ImportResult, error) {
	if opts.OnConflict == "" {
		opts.OnConflict = store.ConflictSkip
	}
	results := make([]ImportResult, len(lines))
	users := s.prepareImports(ctx, tenantID, lines, results)
	var batch []store.ImportUser
	var at []int // index in lines of each batch entry
	for i, l := range lines {
		if results[i].Err != nil {
			continue
		}
		batch = append(batch, store.ImportUser{User: users[i], MatchByUsername: l.User.ID == ""})
		at = append(at, i)
	}
	if len(batch) == 0 {
		return results, nil
	}
	stored, err := s.store.ImportUsers(ctx, tenantID, batch, store.ImportOptions{OnConflict: opts.OnConflict, DryRun: opts.DryRun})
	if err != nil {
		if stop(ctx, err) {
			return nil, err
		}
		// One user the database refuses (the validation let it through)
		// fails the batch's transaction: write the batch one by one, so
		// that only that user fails.
		stored = make([]store.ImportResult, len(batch))
		for j := range batch {
			r, err := s.store.ImportUsers(ctx, tenantID, batch[j:j+1], store.ImportOptions{OnConflict: opts.OnConflict, DryRun: opts.DryRun})
			switch {
			case err == nil:
				stored[j] = r[0]
			case stop(ctx, err):
				return nil, err
			default:
				stored[j] = store.ImportResult{Outcome: store.ImportFailed, Err: fmt.Errorf("the database refused the user: %w", err)}
			}
		}
	}
	for j, r := range stored {
		i := at[j]
		results[i].Outcome, results[i].ID, results[i].Err = r.Outcome, r.ID, r.Err
		if r.Outcome != store.ImportUpdated || opts.DryRun {
			continue
		}
		s.forgetUser(tenantID, r.ID)
		if batch[j].Status != store.StatusActive {
			if _, err := s.RevokeUserSessions(ctx, tenantID, r.ID, "", ReasonDisabled, m); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

// stop reports errors that end a run rather than fail one line.
func stop(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound)
}

// prepareImports prepares the lines on every core at once (a plain
// password costs an argon2id hash; the hasher bounds the concurrency) and
// records each line's failure in results.
func (s *Service) prepareImports(ctx context.Context, tenantID string, lines []ImportLine, results []ImportResult) []store.User {
	users := make([]store.User, len(lines))
	now := s.clock.Now()
	workers := min(runtime.NumCPU(), len(lines))
	per := (len(lines) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(lines); lo += per {
		hi := min(lo+per, len(lines))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				l := lines[i]
				results[i] = ImportResult{Line: l.Line, Outcome: store.ImportFailed, Err: l.Err}
				if l.Err != nil {
					continue
				}
				u, err := s.prepareImport(ctx, tenantID, l, now)
				users[i], results[i].Err = u, err
			}
		})
	}
	wg.Wait()
	return users
}

// prepareImport turns one line into a store user with CreateUser's rules,
// converting a Firebase scrypt object into its password-hash string.
func (s *Service) prepareImport(ctx context.Context, tenantID string, l ImportLine, now time.Time) (store.User, error) {
	in := l.User
	in.TenantID = tenantID
	if l.Firebase != nil {
		if in.Password != "" || in.PasswordHash != "" {
			return store.User{}, invalid("give at most one of password, password_hash and firebase_scrypt")
		}
		h, err := password.EncodeFirebaseScrypt(*l.Firebase)
		if err != nil {
			return store.User{}, invalid("firebase_scrypt: " + strings.TrimPrefix(err.Error(), password.ErrMalformedHash.Error()+": "))
		}
		in.PasswordHash = h
	}
	return s.prepareUser(ctx, in, now)
}
