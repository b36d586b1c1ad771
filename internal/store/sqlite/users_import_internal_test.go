package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// The import's key lookup must search an index per key, never scan the
// tenant's users: a scan per batch makes a million-user import quadratic.
func TestImportLookup_SearchesIndexes(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+importLookupSQL, "t", `["a"]`, `["b"]`, `["c"]`, `["d"]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	searches := 0
	for _, d := range plan {
		if strings.Contains(d, "users") {
			if !strings.HasPrefix(d, "SEARCH users USING") || !strings.Contains(d, "AND ") {
				t.Errorf("lookup reads users without a key search: %q\nplan: %q", d, plan)
			}
			searches++
		}
	}
	if searches != 4 {
		t.Errorf("%d searches of users, want one per key: %q", searches, plan)
	}
}
