package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

// withServer assembles a server (no listener) for a one-off administrative task.
func withServer(ctx context.Context, cfgPath string, stderr io.Writer, f func(*server.Server) error) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, server.Options{Logger: newLogger(cfg, stderr)})
	if err != nil {
		return err
	}
	defer srv.Close()
	return f(srv)
}

var cliMeta = core.Meta{Actor: "cli"}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: gatehouse user create --username NAME [--password PW | --password-stdin] [flags]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("user: a subcommand is required: create")
	}
	fs := newFlags("user create", "Create a user. The password is read from --password or, safer, from stdin with --password-stdin.", stderr)
	cfgPath := configFlag(fs)
	tenant := fs.String("tenant", core.DefaultTenant, "tenant id")
	id := fs.String("id", "", "explicit user id (default: generated)")
	username := fs.String("username", "", "username (required)")
	email := fs.String("email", "", "email address")
	phone := fs.String("phone", "", "phone number")
	name := fs.String("display-name", "", "display name")
	roles := fs.String("roles", "", "comma-separated roles (e.g. admin)")
	pw := fs.String("password", "", "password (visible in the process list; prefer --password-stdin)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	mustChange := fs.Bool("must-change-password", false, "require a password change at first sign-in")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("user create: --username is required")
	}
	password := *pw
	if *pwStdin {
		line, err := readLine(stdin)
		if err != nil {
			return fmt.Errorf("read password: %w", err)
		}
		password = line
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		u, err := srv.Service.CreateUser(ctx, core.NewUser{
			TenantID: *tenant, ID: *id, Username: *username, Email: *email, Phone: *phone,
			DisplayName: *name, Roles: splitList(*roles), Password: password, MustChangePassword: *mustChange,
		}, cliMeta)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(map[string]any{"id": u.ID, "tenant_id": u.TenantID, "username": u.Username, "roles": u.Roles})
	})
}

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprintln(stderr, "Usage: gatehouse keys rotate [--alg EdDSA|ES256|RS256]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("keys: a subcommand is required: rotate")
	}
	fs := newFlags("keys rotate", "Generate a new signing key. It is published at once and signs new tokens\nafter GATEHOUSE_KEY_ACTIVATION_DELAY (at once by default); the old public\nkey stays published until the tokens it signed have expired. Running\nservers pick the new key up within GATEHOUSE_KEY_RELOAD_INTERVAL.", stderr)
	cfgPath := configFlag(fs)
	alg := fs.String("alg", "", "algorithm of the new key (default: GATEHOUSE_SIGNING_ALG)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		kid, activeFrom, err := srv.Service.RotateKeys(ctx, *alg, cliMeta)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, kid)
		if activeFrom.After(time.Now()) {
			fmt.Fprintf(stderr, "published now; signs new tokens from %s (GATEHOUSE_KEY_ACTIVATION_DELAY)\n", activeFrom.UTC().Format(time.RFC3339))
		}
		return nil
	})
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
