package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// Ticket lifetimes.
const (
	// DefaultTicketTTL is the lifetime of a ticket whose issuer names none.
	DefaultTicketTTL = 60 * time.Second
	// defaultTicketMaxTTL caps ticket lifetimes when the policy sets no cap.
	defaultTicketMaxTTL = 5 * time.Minute
)

// Audit event types of one-time tickets.
const (
	EventTicketIssued   = "ticket_issued"
	EventTicketRedeemed = "ticket_redeemed"
)

var errInvalidTicket = newError(CodeInvalidTicket, "the ticket is invalid, expired or already used")

// TicketRequest is an administrator's request for a one-time ticket.
type TicketRequest struct {
	TenantID string
	UserID   string
	// Purpose is store.TicketSignin (the default) or store.TicketImpersonation.
	Purpose string
	// TTL is the ticket's lifetime: DefaultTicketTTL when zero, capped at
	// the policy's TicketMaxTTL.
	TTL time.Duration
	// Meta.Actor names the issuing administrator; for impersonation it
	// becomes the act claim of the session's tokens.
	Meta
}

// IssuedTicket is a new ticket. The ticket itself is shown to its issuer
// this once; only its hash is stored.
type IssuedTicket struct {
	Ticket    string
	UserID    string
	Purpose   string
	ExpiresAt time.Time
}

// IssueTicket creates a one-time sign-in ticket for an active user.
func (s *Service) IssueTicket(ctx context.Context, in TicketRequest) (IssuedTicket, error) {
	purpose := in.Purpose
	if purpose == "" {
		purpose = store.TicketSignin
	}
	if purpose != store.TicketSignin && purpose != store.TicketImpersonation {
		return IssuedTicket{}, invalid("purpose must be signin or impersonation")
	}
	if in.UserID == "" {
		return IssuedTicket{}, invalid("user_id is required")
	}
	if in.TTL < 0 {
		return IssuedTicket{}, invalid("the ticket lifetime must be positive")
	}
	if purpose == store.TicketImpersonation && in.Actor == "" {
		return IssuedTicket{}, invalid("an impersonation ticket needs an acting administrator")
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = DefaultTicketTTL
	}
	if limit := s.ticketMaxTTL(); ttl > limit {
		ttl = limit
	}
	if hasNUL(in.UserID) { // no user has such an id
		return IssuedTicket{}, newError(CodeNotFound, "user not found")
	}
	u, err := s.store.GetUser(ctx, in.TenantID, in.UserID)
	if err != nil {
		return IssuedTicket{}, storeErr(err, "user")
	}
	if u.Status != store.StatusActive {
		return IssuedTicket{}, invalid("the user is " + u.Status + " and cannot sign in")
	}

	raw := token.NewOpaque()
	now := s.clock.Now()
	t := store.Ticket{
		Hash:      token.HashOpaque(raw),
		TenantID:  in.TenantID,
		UserID:    u.ID,
		Purpose:   purpose,
		Actor:     in.Actor,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	}
	if err := s.store.CreateTicket(ctx, t); err != nil {
		return IssuedTicket{}, storeErr(err, "user")
	}
	s.audit(ctx, event(EventTicketIssued, in.TenantID, u.ID, in.Meta, map[string]any{
		"purpose": purpose, "ttl_seconds": int(ttl / time.Second), "expires_at": t.ExpiresAt.Format(time.RFC3339),
	}))
	return IssuedTicket{Ticket: raw, UserID: u.ID, Purpose: purpose, ExpiresAt: t.ExpiresAt}, nil
}

func (s *Service) ticketMaxTTL() time.Duration {
	if s.policy.TicketMaxTTL > 0 {
		return s.policy.TicketMaxTTL
	}
	return defaultTicketMaxTTL
}

// TicketSignin presents a one-time ticket.
type TicketSignin struct {
	TenantID string
	Ticket   string
	Meta
}

// SignInWithTicket redeems a ticket and starts a session for its user
// (amr ["ticket"]). The redemption is one conditional write in the store, so
// of N simultaneous attempts exactly one succeeds. Unknown, expired, used
// and other-tenant tickets, and tickets of users who can no longer sign
// in, all get the same invalid-ticket error. An impersonation ticket's
// session names the issuing administrator as the act claim of every token,
// refreshed ones included.
func (s *Service) SignInWithTicket(ctx context.Context, in TicketSignin) (LoginResult, error) {
	res, err := s.signInWithTicket(ctx, in)
	s.metrics.Login(loginOutcome(err))
	return res, err
}

func (s *Service) signInWithTicket(ctx context.Context, in TicketSignin) (LoginResult, error) {
	if in.Ticket == "" {
		return LoginResult{}, invalid("ticket is required")
	}
	if len(in.Ticket) > maxOpaqueLen {
		return LoginResult{}, errInvalidTicket
	}
	t, err := s.store.RedeemTicket(ctx, in.TenantID, token.HashOpaque(in.Ticket), s.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, errInvalidTicket
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("redeem ticket: %w", err)
	}
	u, err := s.store.GetUser(ctx, t.TenantID, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, errInvalidTicket
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("ticket user: %w", err)
	}
	if u.Status != store.StatusActive {
		e := event(EventLoginFailed, t.TenantID, u.ID, in.Meta, map[string]any{"reason": "account_" + u.Status, "method": "ticket"})
		e.Actor = t.Actor
		s.audit(ctx, e)
		return LoginResult{}, errInvalidTicket
	}
	p := SessionParams{AMR: []string{"ticket"}, IP: in.IP, UserAgent: in.UserAgent}
	if t.Purpose == store.TicketImpersonation {
		p.Actor = t.Actor // act.sub is the actor of the audit log, verbatim
	}
	res, err := s.startSession(ctx, u, p)
	if err != nil {
		return LoginResult{}, err
	}
	s.audit(ctx, store.AuditEvent{Type: EventTicketRedeemed, TenantID: u.TenantID, UserID: u.ID, SessionID: res.Session.ID,
		Actor: t.Actor, IP: in.IP, UserAgent: in.UserAgent, Details: map[string]any{"purpose": t.Purpose}})
	return res, nil
}
