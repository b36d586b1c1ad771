package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

// runTicket implements `gatehouse ticket issue`: it prints a one-time
// sign-in ticket as JSON {ticket, expires_at, purpose, user_id}.
func runTicket(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "Usage: gatehouse ticket issue --user-id ID [--purpose signin|impersonation] [--ttl 60s] [--tenant T]"
	if len(args) == 0 || args[0] != "issue" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		if len(args) > 0 {
			return fmt.Errorf("ticket: unknown subcommand %q: want issue", args[0])
		}
		fmt.Fprintln(stderr, usage)
		return errors.New("ticket: a subcommand is required: issue")
	}
	fs := newFlags("ticket issue", "Issue a one-time sign-in ticket for a user and print it as JSON. The ticket\nis shown only here; redeem it with POST /auth/ticket/signin before it expires.", stderr)
	cfgPath := configFlag(fs)
	tenant := fs.String("tenant", core.DefaultTenant, "tenant id")
	userID := fs.String("user-id", "", "id of the user the ticket signs in (required)")
	purpose := fs.String("purpose", "signin", "signin, or impersonation (the session's tokens carry act.sub = --actor)")
	ttl := fs.String("ttl", "60s", "lifetime of the ticket, capped by GATEHOUSE_TICKET_MAX_TTL")
	actor := fs.String("actor", cliMeta.Actor, "who issues the ticket: the actor of the audit events and, for impersonation, act.sub of the session's tokens (the same value, verbatim)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *userID == "" {
		return errors.New("ticket issue: --user-id is required")
	}
	d, err := config.ParseDuration(*ttl)
	if err != nil || d <= 0 {
		return fmt.Errorf("ticket issue: --ttl %q: want a positive duration such as 60s or 5m", *ttl)
	}
	if *actor == "" {
		return errors.New("ticket issue: --actor must not be empty")
	}
	return withServer(ctx, *cfgPath, stderr, func(srv *server.Server) error {
		t, err := srv.Service.IssueTicket(ctx, core.TicketRequest{
			TenantID: *tenant, UserID: *userID, Purpose: *purpose, TTL: d, Meta: core.Meta{Actor: *actor},
		})
		if err != nil {
			return failure("ticket issue", err, hints{
				core.CodeNotFound: fmt.Sprintf("=tenant %q has no user with id %q: check --user-id and --tenant", *tenant, *userID),
			})
		}
		return json.NewEncoder(stdout).Encode(map[string]any{
			"ticket": t.Ticket, "expires_at": t.ExpiresAt.UTC().Format(time.RFC3339), "purpose": t.Purpose, "user_id": t.UserID,
		})
	})
}
