package names

// Values of the stores' users.username_legacy column.
const (
	LegacyNone      = 0
	LegacyCollision = 1 // the prepared name is another user's username
	LegacyRefused   = 2 // the profile refuses the stored name
)

// Stored is one user's names and keys as the stores held them before
// usernames were compared by RFC 8265.
type Stored struct {
	Tenant, ID, Username, Key, Email, EmailKey string
}

// Rekey is the new state of one user's keys.
type Rekey struct {
	Tenant, ID, Key, EmailKey string
	Legacy                    int
}

// PlanRekey decides the new keys of users moving to PRECIS comparison, in
// the order of rows (oldest first); it returns only the users whose keys or
// mark change. Each user takes the prepared form of its stored username as
// key, except when another user holds that key already (or took it earlier
// in this plan): then the user keeps its old key and is marked a
// collision, and keeps signing in under its stored name. A stored name the
// profile refuses also keeps its old key. Email keys never collide: folding
// ASCII letters only makes fewer addresses equal than the Unicode folding
// before.
func PlanRekey(rows []Stored) []Rekey {
	type tk struct{ tenant, key string }
	holder := make(map[tk]string, len(rows))
	for _, r := range rows {
		holder[tk{r.Tenant, r.Key}] = r.ID
	}
	var out []Rekey
	for _, r := range rows {
		ch := Rekey{Tenant: r.Tenant, ID: r.ID, Key: r.Key, EmailKey: EmailKey(r.Email)}
		p, err := Username(r.Username)
		switch {
		case err != nil:
			ch.Legacy = LegacyRefused
		case p == r.Key:
		default:
			if other, taken := holder[tk{r.Tenant, p}]; taken && other != r.ID {
				ch.Legacy = LegacyCollision
				break
			}
			delete(holder, tk{r.Tenant, r.Key})
			holder[tk{r.Tenant, p}] = r.ID
			ch.Key = p
		}
		if ch.Key != r.Key || ch.Legacy != LegacyNone || ch.EmailKey != r.EmailKey {
			out = append(out, ch)
		}
	}
	return out
}
