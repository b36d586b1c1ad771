package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// ListPasskeys returns the account's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, a Account) ([]store.Passkey, error) {
	if s.rp == nil {
		return nil, ErrPasskeysOff
	}
	return s.UserPasskeys(ctx, a.TenantID, a.UserID)
}

// RenamePasskey renames one of the account's passkeys.
func (s *Service) RenamePasskey(ctx context.Context, a Account, id, name string, m Meta) (store.Passkey, error) {
	if s.rp == nil {
		return store.Passkey{}, ErrPasskeysOff
	}
	if strings.TrimSpace(name) == "" {
		return store.Passkey{}, newError(CodeInvalidRequest, "name is required")
	}
	name, err := passkeyName(name)
	if err != nil {
		return store.Passkey{}, err
	}
	if !storableID(id) {
		return store.Passkey{}, errPasskeyNotFound
	}
	pk, err := s.store.RenamePasskey(ctx, a.TenantID, a.UserID, id, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Passkey{}, errPasskeyNotFound
	}
	if err != nil {
		return store.Passkey{}, fmt.Errorf("rename passkey: %w", err)
	}
	e := event(EventPasskeyRenamed, a.TenantID, a.UserID, m, map[string]any{"passkey_id": id, "name": name})
	e.SessionID = a.SessionID
	s.audit(ctx, e)
	return pk, nil
}

// DeletePasskey removes one of the account's passkeys.
func (s *Service) DeletePasskey(ctx context.Context, a Account, id string, m Meta) error {
	if s.rp == nil {
		return ErrPasskeysOff
	}
	return s.removePasskey(ctx, a.TenantID, a.UserID, id, a.SessionID, m)
}

// storableID reports whether id can name a record in every store: ids
// with a NUL byte or invalid UTF-8 (which PostgreSQL's text refuses) name nothing.
func storableID(id string) bool {
	return id != "" && len(id) <= 256 && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// UserPasskeys returns a user's passkeys, oldest first (for the admin API).
func (s *Service) UserPasskeys(ctx context.Context, tenantID, userID string) ([]store.Passkey, error) {
	if !storableID(userID) {
		return nil, newError(CodeNotFound, "user not found")
	}
	if _, err := s.store.GetUser(ctx, tenantID, userID); err != nil {
		return nil, storeErr(err, "user")
	}
	pks, err := s.store.ListPasskeys(ctx, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return pks, nil
}

// RemoveUserPasskey removes a user's passkey (for the admin API; m.Actor
// names the administrator).
func (s *Service) RemoveUserPasskey(ctx context.Context, tenantID, userID, id string, m Meta) error {
	return s.removePasskey(ctx, tenantID, userID, id, "", m)
}

func (s *Service) removePasskey(ctx context.Context, tenantID, userID, id, sessionID string, m Meta) error {
	if !storableID(userID) || !storableID(id) {
		return errPasskeyNotFound
	}
	err := s.store.DeletePasskey(ctx, tenantID, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errPasskeyNotFound
	}
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	e := event(EventPasskeyRemoved, tenantID, userID, m, map[string]any{"passkey_id": id})
	e.SessionID = sessionID
	s.audit(ctx, e)
	return nil
}
