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

// withServer assembles a server (no listener) for a one-off administrative
// task. Its log shows warnings and errors only (unless GATEHOUSE_LOG_LEVEL is
// debug): a terminal command has no use for the start-up INFO lines of serve.
func withServer(ctx context.Context, cfgPath string, stderr io.Writer, f func(*server.Server) error) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	log := cliLogger(cfg, stderr)
	warnUnknownEnv(log)
	srv, err := server.New(ctx, cfg, server.Options{Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	return f(srv)
}

var cliMeta = core.Meta{Actor: "cli"}

const userUsage = `Usage: gatehouse user create --username NAME (--password-stdin | --password PW | --no-password) [flags]
       gatehouse user delete --id ID [--tenant T]`

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return errors.New("user: a subcommand is required: create or delete")
	}
	switch args[0] {
	case "create":
		return runUserCreate(ctx, args[1:], stdout, stderr)
	case "delete":
		return runUserDelete(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	}
	return fmt.Errorf("user: unknown subcommand %q: want create or delete", args[0])
}

func runUserCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user create", "Create a user. The password is read from stdin with --password-stdin (safest),\nor given with --password; --no-password creates a user without one (who signs\nin by ticket or with an external provider only).", stderr)
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
	noPw := fs.Bool("no-password", false, "create the user without a password")
	mustChange := fs.Bool("must-change-password", false, "require a password change at first sign-in")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("user create: --username is required")
	}
	given := 0
	for _, set := range []bool{*pw != "", *pwStdin, *noPw} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return errors.New("user create: no password given: pipe it with --password-stdin (or use --password), or pass --no-password for a user without one")
	case given > 1:
		return errors.New("user create: --password, --password-stdin and --no-password exclude each other")
	}
	password := *pw
	if *pwStdin {
		line, err := readLine(stdin)
		if err != nil {
			return fmt.Errorf("user create: read the password from stdin: %w", err)
		}
		if line == "" {
			return errors.New("user create: --password-stdin read an empty password: pipe it in, e.g. printf '%s\\n' \"$PW\" | gatehouse user create ... --password-stdin")
		}
		password = line
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		u, err := srv.Service.CreateUser(ctx, core.NewUser{
			TenantID: *tenant, ID: *id, Username: *username, Email: *email, Phone: *phone,
			DisplayName: *name, Roles: splitList(*roles), Password: password, MustChangePassword: *mustChange,
		}, cliMeta)
		if err != nil {
			return failure("user create", err, hints{
				core.CodeConflict: fmt.Sprintf("=tenant %q already has a user with this id, username, email or phone: choose another (usernames are unique ignoring case)", *tenant),
				core.CodeNotFound: fmt.Sprintf("=tenant %q does not exist: create it first (POST /admin/tenants) or pass --tenant", *tenant),
			})
		}
		return json.NewEncoder(stdout).Encode(map[string]any{"id": u.ID, "tenant_id": u.TenantID, "username": u.Username, "roles": u.Roles})
	})
}

func runUserDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user delete", "Delete a user and revoke all their sessions.", stderr)
	cfgPath := configFlag(fs)
	tenant := fs.String("tenant", core.DefaultTenant, "tenant id")
	id := fs.String("id", "", "id of the user (required; the id that user create printed)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("user delete: --id is required")
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		if err := srv.Service.DeleteUser(ctx, *tenant, *id, cliMeta); err != nil {
			return failure("user delete", err, hints{
				core.CodeNotFound: fmt.Sprintf("=tenant %q has no user with id %q: check --id and --tenant", *tenant, *id),
			})
		}
		return json.NewEncoder(stdout).Encode(map[string]any{"deleted": *id, "tenant_id": *tenant})
	})
}

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "Usage: gatehouse keys rotate [--alg EdDSA|ES256|RS256]"
	if len(args) == 0 || args[0] != "rotate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		if len(args) > 0 {
			return fmt.Errorf("keys: unknown subcommand %q: want rotate", args[0])
		}
		fmt.Fprintln(stderr, usage)
		return errors.New("keys: a subcommand is required: rotate")
	}
	fs := newFlags("keys rotate", "Generate a new signing key. It is published at once and signs new tokens\nafter GATEHOUSE_KEY_ACTIVATION_DELAY (at once by default); the old public\nkey stays published until the tokens it signed have expired. Running\nservers pick the new key up within GATEHOUSE_KEY_RELOAD_INTERVAL.", stderr)
	cfgPath := configFlag(fs)
	alg := fs.String("alg", "", "algorithm of the new key (default: GATEHOUSE_SIGNING_ALG)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		kid, activeFrom, err := srv.Service.RotateKeys(ctx, *alg, cliMeta)
		if err != nil {
			return failure("keys rotate", err, nil)
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
