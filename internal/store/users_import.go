package store

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/names"
)

// UserImporter writes users in bulk, for `gatehouse import`.
type UserImporter interface {
	// ImportUsers writes a batch of users of one tenant in one
	// transaction and reports one result per input, in order. A user
	// matches a stored one by id, or by username when MatchByUsername is
	// set (an import line without an id); what happens to a match is
	// opts.OnConflict. A user whose username, email or phone belongs to
	// another stored user (or to an earlier user of the batch) fails with
	// a reason wrapping ErrConflict. With opts.DryRun the results are the
	// same but the transaction is rolled back. An error means the batch as
	// a whole was not written (ErrNotFound for an unknown tenant).
	ImportUsers(ctx context.Context, tenantID string, batch []ImportUser, opts ImportOptions) ([]ImportResult, error)
}

// ImportUser is one user of an import batch.
type ImportUser struct {
	User
	// MatchByUsername: the line carried no id (User.ID is freshly
	// generated), so the user is the stored one with the same username.
	MatchByUsername bool
}

// OnConflict says what an import does with a user that already exists.
type OnConflict string

// The conflict modes of ImportUsers.
const (
	// ConflictSkip leaves the stored user as it is (the default: an import
	// run twice changes nothing the second time).
	ConflictSkip OnConflict = "skip"
	// ConflictUpdate overwrites the stored user's fields with the line's,
	// except created_at, and except the password when the line has none.
	ConflictUpdate OnConflict = "update"
	// ConflictFail reports the line as failed.
	ConflictFail OnConflict = "fail"
)

// ImportOptions shape one ImportUsers call.
type ImportOptions struct {
	OnConflict OnConflict
	DryRun     bool
}

// ImportOutcome is what happened to one user of a batch.
type ImportOutcome int

// The outcomes of ImportUsers.
const (
	ImportFailed ImportOutcome = iota
	ImportInserted
	ImportUpdated
	ImportSkipped
)

// ImportResult is the outcome of one user of a batch; Err says why it failed.
type ImportResult struct {
	Outcome ImportOutcome
	// ID is the stored user's id (for a user matched by username, the
	// stored one's).
	ID  string
	Err error
}

// UserKeys are a stored user's unique keys, as ImportUsers looks them up:
// the lowercased username and email, and the phone.
type UserKeys struct {
	ID, UsernameLower, EmailLower, Phone string
}

// ImportPlan is the work PlanImport decided on: users to insert, users to
// update (with the stored id), and the result of every input.
type ImportPlan struct {
	Inserts []User
	Updates []User
	Results []ImportResult
}

// PlanImport decides, for a batch and the stored users that share any of
// its keys, which users to insert, update, skip or fail. Every store runs
// it inside the transaction that then writes the plan, so the rules of
// ImportUsers live here once. Usernames and emails are compared by the
// keys every store keeps (names.UsernameKey, names.EmailKey).
func PlanImport(batch []ImportUser, existing []UserKeys, mode OnConflict) ImportPlan {
	byID := map[string]bool{}
	owner := map[string]string{} // "u:"/"e:"/"p:" + key -> id
	for _, k := range existing {
		byID[k.ID] = true
		owner["u:"+k.UsernameLower] = k.ID
		if k.EmailLower != "" {
			owner["e:"+k.EmailLower] = k.ID
		}
		if k.Phone != "" {
			owner["p:"+k.Phone] = k.ID
		}
	}
	plan := ImportPlan{Results: make([]ImportResult, len(batch))}
	for i, in := range batch {
		u := in.User
		keys := []struct{ key, name string }{{"u:" + names.UsernameKey(u.Username), "username"}}
		if u.Email != "" {
			keys = append(keys, struct{ key, name string }{"e:" + names.EmailKey(u.Email), "email"})
		}
		if u.Phone != "" {
			keys = append(keys, struct{ key, name string }{"p:" + u.Phone, "phone"})
		}
		target := ""
		if in.MatchByUsername {
			target = owner[keys[0].key]
		} else if byID[u.ID] {
			target = u.ID
		}
		if target != "" {
			switch mode {
			case ConflictUpdate:
			case ConflictFail:
				plan.Results[i] = ImportResult{Outcome: ImportFailed, ID: target, Err: fmt.Errorf("%w: the user exists", ErrConflict)}
				continue
			default:
				plan.Results[i] = ImportResult{Outcome: ImportSkipped, ID: target}
				continue
			}
		}
		taken := ""
		for _, k := range keys {
			if id, ok := owner[k.key]; ok && id != target {
				taken = k.name
				break
			}
		}
		if taken != "" {
			plan.Results[i] = ImportResult{Outcome: ImportFailed, Err: fmt.Errorf("%w: the %s belongs to another user", ErrConflict, taken)}
			continue
		}
		if target != "" {
			u.ID = target
			plan.Updates = append(plan.Updates, u)
			plan.Results[i] = ImportResult{Outcome: ImportUpdated, ID: target}
		} else {
			plan.Inserts = append(plan.Inserts, u)
			plan.Results[i] = ImportResult{Outcome: ImportInserted, ID: u.ID}
			byID[u.ID] = true
		}
		for _, k := range keys {
			owner[k.key] = u.ID
		}
	}
	return plan
}
