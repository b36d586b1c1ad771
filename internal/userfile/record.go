// Package userfile reads and writes the JSON Lines user file of
// `gatehouse import` and `gatehouse export`: one user an object per line,
// in the shape of CONTRACT §15. Import decodes lines, hands them to the
// core in batches (where every line gets the same validation as
// POST /admin/users) and reports each line's outcome; Export pages through
// a tenant's users and writes the same format back, password hashes
// included, so that a tenant can move between installations.
package userfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Record is one line of a user file.
type Record struct {
	ID                 string                   `json:"id,omitempty"`
	Username           string                   `json:"username"`
	Email              string                   `json:"email,omitempty"`
	Phone              string                   `json:"phone,omitempty"`
	DisplayName        string                   `json:"display_name,omitempty"`
	AvatarURL          string                   `json:"avatar_url,omitempty"`
	Groups             []string                 `json:"groups,omitempty"`
	Roles              []string                 `json:"roles,omitempty"`
	Attributes         map[string]any           `json:"attributes,omitempty"`
	Status             string                   `json:"status,omitempty"`
	CreatedAt          string                   `json:"created_at,omitempty"`
	PasswordChangedAt  string                   `json:"password_changed_at,omitempty"`
	MustChangePassword bool                     `json:"must_change_password,omitempty"`
	Password           string                   `json:"password,omitempty"`
	PasswordHash       string                   `json:"password_hash,omitempty"`
	FirebaseScrypt     *password.FirebaseScrypt `json:"firebase_scrypt,omitempty"`
}

// decodeLine turns one line into an import line. Unknown fields are
// refused rather than ignored: a misspelt "pasword_hash" must not import
// a user without a password.
func decodeLine(n int, raw []byte) core.ImportLine {
	l := core.ImportLine{Line: n}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		l.Err = fmt.Errorf("not a JSON user object: %s", jsonReason(err))
		return l
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		l.Err = errors.New("not a JSON user object: more than one value on the line")
		return l
	}
	l.User = core.NewUser{
		ID: r.ID, Username: r.Username, Email: r.Email, Phone: r.Phone, DisplayName: r.DisplayName,
		AvatarURL: r.AvatarURL, Groups: r.Groups, Roles: r.Roles, Attributes: r.Attributes,
		Status: r.Status, MustChangePassword: r.MustChangePassword,
		Password: r.Password, PasswordHash: r.PasswordHash,
	}
	l.Firebase = r.FirebaseScrypt
	var err error
	if l.User.CreatedAt, err = parseTime("created_at", r.CreatedAt); err != nil {
		l.Err = err
	} else if l.User.PasswordChangedAt, err = parseTime("password_changed_at", r.PasswordChangedAt); err != nil {
		l.Err = err
	}
	return l
}

func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time", name)
	}
	return t, nil
}

// jsonReason is a JSON decoding error without Go type names.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return msg
}

// recordOf is the line Export writes for u.
func recordOf(u store.User) Record {
	r := Record{
		ID: u.ID, Username: u.Username, Email: u.Email, Phone: u.Phone, DisplayName: u.DisplayName,
		AvatarURL: u.AvatarURL, Groups: u.Groups, Roles: u.Roles, Attributes: u.Attributes,
		Status: u.Status, MustChangePassword: u.MustChangePassword, PasswordHash: u.PasswordHash,
	}
	if !u.CreatedAt.IsZero() {
		r.CreatedAt = u.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	if !u.PasswordChangedAt.IsZero() {
		r.PasswordChangedAt = u.PasswordChangedAt.UTC().Format(time.RFC3339Nano)
	}
	return r
}

// Reason is the operator-facing text of a failed line: the core's message,
// or the store's reason, without error-code prefixes.
func Reason(err error) string {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	if errors.Is(err, store.ErrConflict) {
		return "conflict: " + strings.TrimPrefix(err.Error(), store.ErrConflict.Error()+": ")
	}
	return err.Error()
}
