package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnknownEnv(t *testing.T) {
	got := UnknownEnv([]string{
		"PATH=/usr/bin",
		"GATEHOUSE_ADDR=127.0.0.1:9000",           // known
		"GATEHOUSE_CONFIG=/etc/gatehouse.yaml",    // the file's path
		"GATEHOUSE_TEST_POSTGRES_DSN=postgres://", // the tests'
		"GATEHOUSE_CLIENT_ID=app",                 // the SDK's examples
		"GATEHOUSE_ACESS_TOKEN_TTL=5m",            // a typo
		"GATEHOUSE_LOGLEVEL=debug",                // a missing underscore
		"GATEHOUSE_DB_URL=postgres://",            // close to GATEHOUSE_DB
		"GATEHOUSE_FAVOURITE_COLOUR=blue",         // nothing near
		"GATEHOUSE_FAMILYS=native",
	})
	want := []UnknownVar{
		{"GATEHOUSE_ACESS_TOKEN_TTL", "GATEHOUSE_ACCESS_TOKEN_TTL"},
		{"GATEHOUSE_DB_URL", "GATEHOUSE_DB"},
		{"GATEHOUSE_FAMILYS", "GATEHOUSE_FAMILIES"},
		{"GATEHOUSE_FAVOURITE_COLOUR", ""},
		{"GATEHOUSE_LOGLEVEL", "GATEHOUSE_LOG_LEVEL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownEnv =\n%+v\nwant\n%+v", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"DB", "DB_URL", 4}, {"same", "same", 0}} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestDBLocation_HidesPassword(t *testing.T) {
	for db, want := range map[string]string{
		"postgres://gh:s3cret@db.internal:5432/auth?sslmode=require":     "postgres://gh:xxxxx@db.internal:5432/auth?sslmode=require",
		"postgres://gh@db.internal/auth?password=s3cret&sslmode=disable": "postgres://gh@db.internal/auth?password=xxxxx&sslmode=disable",
		"postgresql://db.internal/auth":                                  "postgresql://db.internal/auth",
		"sqlite:/var/lib/gatehouse/gatehouse.db":                         "sqlite:/var/lib/gatehouse/gatehouse.db",
	} {
		if got := (Config{DB: db}).DBLocation(); got != want {
			t.Errorf("DBLocation(%q) = %q, want %q", db, got, want)
		}
	}
	if got := (Config{DB: "sqlite:./data/g.db"}).DBLocation(); !strings.HasPrefix(got, "sqlite:/") || !strings.HasSuffix(got, "/data/g.db") {
		t.Errorf("relative SQLite path not made absolute: %q", got)
	}
}
