package core

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/names"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// NewUser is an administrator's request to create a user.
type NewUser struct {
	TenantID           string
	ID                 string // optional explicit id (migrated users keep theirs)
	Username           string
	Email              string
	Phone              string
	DisplayName        string
	AvatarURL          string
	Groups             []string
	Roles              []string
	Attributes         map[string]any
	Password           string // plain password, hashed with argon2id
	PasswordHash       string // or an imported hash of a kind password.Check accepts
	MustChangePassword bool
	Status             string
	// CreatedAt and PasswordChangedAt keep an imported user's history;
	// zero means now.
	CreatedAt         time.Time
	PasswordChangedAt time.Time
}

// UserPatch is an administrator's change to a user; nil fields stay as they are.
type UserPatch struct {
	Username           *string
	Email              *string
	Phone              *string
	DisplayName        *string
	AvatarURL          *string
	Status             *string
	Roles              *[]string
	Groups             *[]string
	Attributes         *map[string]any
	Password           *string
	PasswordHash       *string // an imported hash, as NewUser.PasswordHash
	MustChangePassword *bool
	PasswordChangedAt  *time.Time
}

func invalid(msg string) error { return newError(CodeInvalidRequest, msg) }

// CreateTenant creates a tenant.
func (s *Service) CreateTenant(ctx context.Context, id, name string, m Meta) (store.Tenant, error) {
	if !ValidID(id) {
		return store.Tenant{}, invalid("id must be 1-64 characters of A-Za-z0-9._-")
	}
	if name == "" {
		name = id
	}
	if utf8.RuneCountInString(name) > 200 {
		return store.Tenant{}, invalid("name is too long")
	}
	if hasNUL(name) {
		return store.Tenant{}, invalid("name contains a NUL character")
	}
	t := store.Tenant{ID: id, Name: name, CreatedAt: s.clock.Now()}
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return store.Tenant{}, storeErr(err, "tenant")
	}
	// The event belongs to the tenant of the administrator who created the
	// tenant: only the admin key may, and it acts from the default tenant.
	s.audit(ctx, event(EventTenantCreated, DefaultTenant, "", m, map[string]any{"tenant_id": id, "name": name}))
	return t, nil
}

// EnsureTenant creates the tenant when it does not exist yet.
func (s *Service) EnsureTenant(ctx context.Context, id, name string) error {
	if _, err := s.store.GetTenant(ctx, id); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.store.CreateTenant(ctx, store.Tenant{ID: id, Name: name, CreatedAt: s.clock.Now()}); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// GetTenant returns a tenant.
func (s *Service) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := s.store.GetTenant(ctx, id)
	return t, storeErr(err, "tenant")
}

// ListTenants returns every tenant.
func (s *Service) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	return s.store.ListTenants(ctx)
}

// CreateUser validates and creates a user.
func (s *Service) CreateUser(ctx context.Context, in NewUser, m Meta) (store.User, error) {
	if _, err := s.store.GetTenant(ctx, in.TenantID); err != nil {
		return store.User{}, storeErr(err, "tenant")
	}
	u, err := s.prepareUser(ctx, in, s.clock.Now())
	if err != nil {
		return store.User{}, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return store.User{}, storeErr(err, "user")
	}
	s.audit(ctx, event(EventUserCreated, u.TenantID, u.ID, m, nil))
	return u, nil
}

// prepareUser validates a new user and hashes its password: everything
// CreateUser and ImportUsers do before the store.
func (s *Service) prepareUser(ctx context.Context, in NewUser, now time.Time) (store.User, error) {
	username, err := PrepareUsername(in.Username)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{
		TenantID:           in.TenantID,
		ID:                 in.ID,
		Username:           username,
		Email:              strings.TrimSpace(in.Email),
		Phone:              strings.TrimSpace(in.Phone),
		DisplayName:        in.DisplayName,
		AvatarURL:          in.AvatarURL,
		Groups:             nonNil(in.Groups),
		Roles:              nonNil(in.Roles),
		Attributes:         in.Attributes,
		Status:             in.Status,
		MustChangePassword: in.MustChangePassword,
		CreatedAt:          now,
		UpdatedAt:          now,
	}
	if !in.CreatedAt.IsZero() {
		u.CreatedAt = in.CreatedAt.UTC().Truncate(time.Microsecond)
	}
	changedAt := now
	if !in.PasswordChangedAt.IsZero() {
		changedAt = in.PasswordChangedAt.UTC().Truncate(time.Microsecond)
	}
	if u.ID == "" {
		u.ID = newUserID()
	} else if !ValidID(u.ID) {
		return store.User{}, invalid("id must be 1-64 characters of A-Za-z0-9._-")
	}
	if u.Status == "" {
		u.Status = store.StatusActive
	}
	if u.Attributes == nil {
		u.Attributes = map[string]any{}
	}
	if err := validateUser(u); err != nil {
		return store.User{}, err
	}
	switch {
	case in.Password != "" && in.PasswordHash != "":
		return store.User{}, invalid("give password or password_hash, not both")
	case in.Password != "":
		if err := s.checkPasswordPolicy(in.Password, u, ""); err != nil {
			return store.User{}, err
		}
		h, err := s.hasher.Hash(ctx, in.Password)
		if err != nil {
			return store.User{}, hashErr(err)
		}
		u.PasswordHash, u.PasswordChangedAt = h, changedAt
	case in.PasswordHash != "":
		if err := checkImportedHash(in.PasswordHash); err != nil {
			return store.User{}, err
		}
		u.PasswordHash, u.PasswordChangedAt = in.PasswordHash, changedAt
	}
	return u, nil
}

// checkImportedHash refuses a hash Verify could not check, or whose costs
// are outside the bounds, saying which rule failed.
func checkImportedHash(h string) error {
	if err := password.Check(h); err != nil {
		return invalid("password_hash: " + strings.TrimPrefix(err.Error(), password.ErrMalformedHash.Error()+": "))
	}
	return nil
}

// GetUser returns a user of the tenant.
func (s *Service) GetUser(ctx context.Context, tenantID, id string) (store.User, error) {
	u, err := s.store.GetUser(ctx, tenantID, id)
	return u, storeErr(err, "user")
}

// ListUsers pages through the tenant's users.
func (s *Service) ListUsers(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.store.ListUsers(ctx, tenantID, store.ListUsersParams{AfterID: after, Limit: limit})
}

// UpdateUser applies an administrator's patch. Disabling a user revokes all
// of their sessions; setting a password revokes none (use the sessions API).
func (s *Service) UpdateUser(ctx context.Context, tenantID, id string, p UserPatch, m Meta) (store.User, error) {
	if p.Username != nil {
		username, err := PrepareUsername(*p.Username)
		if err != nil {
			return store.User{}, err
		}
		p.Username = &username
	}
	var newHash string
	if p.Password != nil && p.PasswordHash != nil {
		return store.User{}, invalid("give password or password_hash, not both")
	}
	if p.PasswordHash != nil {
		if err := checkImportedHash(*p.PasswordHash); err != nil {
			return store.User{}, err
		}
		newHash = *p.PasswordHash
	}
	if p.Password != nil {
		cur, err := s.store.GetUser(ctx, tenantID, id)
		if err != nil {
			return store.User{}, storeErr(err, "user")
		}
		if err := s.checkPasswordPolicy(*p.Password, cur, ""); err != nil {
			return store.User{}, err
		}
		if newHash, err = s.hasher.Hash(ctx, *p.Password); err != nil {
			return store.User{}, hashErr(err)
		}
	}
	now := s.clock.Now()
	var changed []string
	u, err := s.store.UpdateUser(ctx, tenantID, id, func(u *store.User) error {
		changed = applyPatch(u, p, newHash, now)
		u.UpdatedAt = now
		return validateUser(*u)
	})
	if err != nil {
		return store.User{}, storeErr(err, "user")
	}
	s.forgetUser(tenantID, id)
	s.audit(ctx, event(EventUserUpdated, tenantID, id, m, map[string]any{"fields": changed}))
	// Setting a non-active status ends every session; other changes to an
	// already disabled user have no sessions left to end.
	if p.Status != nil && u.Status != store.StatusActive {
		if _, err := s.RevokeUserSessions(ctx, tenantID, id, "", ReasonDisabled, m); err != nil {
			return u, err
		}
	}
	return u, nil
}

func applyPatch(u *store.User, p UserPatch, newHash string, now time.Time) []string {
	var changed []string
	set := func(name string, dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
			changed = append(changed, name)
		}
	}
	set("username", &u.Username, p.Username)
	set("email", &u.Email, p.Email)
	set("phone", &u.Phone, p.Phone)
	set("display_name", &u.DisplayName, p.DisplayName)
	set("avatar_url", &u.AvatarURL, p.AvatarURL)
	set("status", &u.Status, p.Status)
	if p.Roles != nil {
		u.Roles, changed = nonNil(*p.Roles), append(changed, "roles")
	}
	if p.Groups != nil {
		u.Groups, changed = nonNil(*p.Groups), append(changed, "groups")
	}
	if p.Attributes != nil {
		u.Attributes, changed = *p.Attributes, append(changed, "attributes")
		if u.Attributes == nil {
			u.Attributes = map[string]any{}
		}
	}
	if newHash != "" {
		u.PasswordHash, u.PasswordChangedAt = newHash, now
		changed = append(changed, "password")
	}
	if p.MustChangePassword != nil {
		u.MustChangePassword, changed = *p.MustChangePassword, append(changed, "must_change_password")
	}
	if p.PasswordChangedAt != nil {
		u.PasswordChangedAt, changed = p.PasswordChangedAt.UTC().Truncate(time.Microsecond), append(changed, "password_changed_at")
	}
	return changed
}

// DeleteUser deletes a user and revokes all their sessions.
func (s *Service) DeleteUser(ctx context.Context, tenantID, id string, m Meta) error {
	sessions, err := s.store.ListUserSessions(ctx, tenantID, id, s.clock.Now())
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, tenantID, id, s.clock.Now()); err != nil {
		return storeErr(err, "user")
	}
	s.forgetUser(tenantID, id)
	s.noteRevoked(sessions...)
	s.audit(ctx, event(EventUserDeleted, tenantID, id, m, nil))
	return nil
}

// maxUsernameRunes bounds a prepared username.
const maxUsernameRunes = 128

// PrepareUsername is the one preparation of a new username, used by every
// path that sets one (admin create and update, provisioning, import): the
// name is trimmed, then prepared with RFC 8265 UsernameCaseMapped (width
// mapping, case folding, NFC), so ａｌｉｃｅ and Alice are both stored as
// alice. Names the profile refuses (inner spaces, controls, NUL,
// zero-width and other disallowed characters) are an invalid request.
// Sign-in looks the typed name up through the same preparation
// (names.Username, applied by the store).
func PrepareUsername(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalid(fmt.Sprintf("username is required (at most %d characters)", maxUsernameRunes))
	}
	if len(raw) > 4*maxUsernameRunes {
		return "", invalid(fmt.Sprintf("username is too long (at most %d characters)", maxUsernameRunes))
	}
	p, err := names.Username(raw)
	if err != nil {
		return "", invalid("username is not allowed: it must not contain spaces, control, zero-width or other invisible characters")
	}
	if utf8.RuneCountInString(p) > maxUsernameRunes {
		return "", invalid(fmt.Sprintf("username is too long (at most %d characters)", maxUsernameRunes))
	}
	return p, nil
}

// validateUser checks the fields an administrator may set. The username
// is checked only for what every stored name satisfies: new names go
// through PrepareUsername, while names stored before usernames were
// prepared stay valid as they are.
func validateUser(u store.User) error {
	switch {
	case u.Username == "" || utf8.RuneCountInString(u.Username) > maxUsernameRunes:
		return invalid("username is required (at most 128 characters)")
	case strings.ContainsAny(u.Username, "\x00\r\n\t"):
		return invalid("username contains control characters")
	case hasNUL(u.Email, u.Phone, u.DisplayName, u.AvatarURL) || hasNULIn(u.Roles) || hasNULIn(u.Groups) || hasNULAny(u.Attributes):
		return invalid("a field contains a NUL character")
	case u.Email != "" && (len(u.Email) > 254 || !validEmail(u.Email)):
		return invalid("email is not a valid address")
	case len(u.Phone) > 32 || strings.ContainsAny(u.Phone, "\x00\r\n\t "):
		return invalid("phone is not valid")
	case utf8.RuneCountInString(u.DisplayName) > 256, len(u.AvatarURL) > 2048:
		return invalid("display_name or avatar_url is too long")
	case u.Status != store.StatusActive && u.Status != store.StatusDisabled && u.Status != store.StatusLocked:
		return invalid("status must be active, disabled or locked")
	case len(u.Roles) > 100 || len(u.Groups) > 100:
		return invalid("at most 100 roles and 100 groups")
	}
	for _, list := range [][]string{u.Roles, u.Groups} {
		for _, v := range list {
			if v == "" || len(v) > 128 {
				return invalid("roles and groups must be 1-128 characters")
			}
		}
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkPasswordPolicy enforces the password policy on a new password: a
// minimum length, at most 1024 bytes, and not the username, the email or the
// old password.
func (s *Service) checkPasswordPolicy(pw string, u store.User, old string) error {
	if utf8.RuneCountInString(pw) < s.policy.PasswordMinLength {
		return invalid(fmt.Sprintf("the password must have at least %d characters", s.policy.PasswordMinLength))
	}
	if len(pw) > maxCredentialLen {
		return invalid("the password is too long")
	}
	lower := strings.ToLower(pw)
	if lower == strings.ToLower(u.Username) || (u.Email != "" && lower == strings.ToLower(u.Email)) {
		return invalid("the password must not be the username or the email")
	}
	if old != "" && pw == old {
		return invalid("the new password must differ from the old one")
	}
	return nil
}

// ChangePassword changes the principal's password and revokes the user's
// other sessions. The old password is required unless the session signed in
// recently (see Reauthenticate); a wrong one is throttled and audited like
// a failed sign-in (password_change_failed, on the account's budget).
func (s *Service) ChangePassword(ctx context.Context, p Principal, oldPw, newPw string, m Meta) error {
	if newPw == "" {
		return invalid("new_password is required")
	}
	u, err := s.passwordOwner(ctx, p.TenantID, p.Subject)
	if err != nil {
		return err
	}
	if len(oldPw) > maxCredentialLen {
		return newError(CodeInvalidCredentials, "the old password is wrong")
	}
	if err := s.reauthenticate(ctx, p, u, oldPw, m, PurposePasswordChange); err != nil {
		return err
	}
	return s.setPassword(ctx, u, oldPw, newPw, p.SessionID, m)
}

// changePassword sets a new password for a user whose recent sign-in the
// caller (the hosted pages' forced change) has established, and revokes
// every session of the user but keep.
func (s *Service) changePassword(ctx context.Context, tenantID, userID, newPw, keep string, m Meta) error {
	if newPw == "" {
		return invalid("new_password is required")
	}
	u, err := s.passwordOwner(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, u, "", newPw, keep, m)
}

func (s *Service) passwordOwner(ctx context.Context, tenantID, userID string) (store.User, error) {
	u, err := s.store.GetUser(ctx, tenantID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errUnauthorized
	}
	return u, err
}

// setPassword checks newPw against the policy (and, when the old password
// was not given, against the stored hash), stores it and revokes every
// session of the user but keep.
func (s *Service) setPassword(ctx context.Context, u store.User, oldPw, newPw, keep string, m Meta) error {
	if err := s.checkPasswordPolicy(newPw, u, oldPw); err != nil {
		return err
	}
	if oldPw == "" && u.PasswordHash != "" {
		// Without the old password in hand, refuse it as the new one by hash.
		if same, _, _ := s.hasher.Verify(ctx, u.PasswordHash, newPw); same {
			return invalid("the new password must differ from the old one")
		}
	}
	h, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return hashErr(err)
	}
	now := s.clock.Now()
	if _, err := s.store.UpdateUser(ctx, u.TenantID, u.ID, func(u *store.User) error {
		u.PasswordHash, u.PasswordChangedAt, u.MustChangePassword, u.UpdatedAt = h, now, false, now
		return nil
	}); err != nil {
		return storeErr(err, "user")
	}
	s.forgetUser(u.TenantID, u.ID)
	e := event(EventPasswordChanged, u.TenantID, u.ID, m, nil)
	e.SessionID = keep
	s.audit(ctx, e)
	_, err = s.RevokeUserSessions(ctx, u.TenantID, u.ID, keep, ReasonPasswordChange, m)
	return err
}
