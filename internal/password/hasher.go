// Package password hashes passwords with argon2id and verifies them against
// every kind of hash Gatehouse accepts from other systems: argon2id and
// argon2i (PHC strings), bcrypt, scrypt and PBKDF2 (passlib's forms) and
// Firebase's scrypt variant. Verify and NeedsRehash are the one surface
// over all of them; every kind but current argon2id asks for a rehash after
// a match. Stored costs are bounded (bounds.go), and hashing is memory-hard
// by design, so a Hasher also bounds how many hashes run at once: a login
// flood then waits briefly or fails with ErrBusy instead of exhausting
// memory.
package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// MaxLength is the longest password accepted, in bytes. Longer inputs are
// rejected before any hashing so that huge bodies cannot buy CPU time.
const MaxLength = 1024

// DefaultMaxWait is how long a hash waits for a free slot when New is given 0.
const DefaultMaxWait = 2 * time.Second

var (
	// ErrBusy means every hashing slot stayed taken for the whole wait.
	ErrBusy = errors.New("password hashing is saturated")
	// ErrTooLong means the password is longer than MaxLength bytes.
	ErrTooLong = fmt.Errorf("password is longer than %d bytes", MaxLength)
	// ErrMalformedHash means a stored hash is empty, of no supported kind,
	// malformed, or has costs out of bounds.
	ErrMalformedHash = errors.New("malformed or unsupported password hash")
)

// Params are the argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the time cost (passes over memory).
	Iterations uint32
	// Parallelism is the number of lanes.
	Parallelism uint8
	// SaltLen is the salt length in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived hash in bytes.
	KeyLen uint32
}

// DefaultParams returns the parameters used for zero fields of the Params
// given to New: 19 MiB, 2 passes, 1 lane, 16-byte salt, 32-byte hash (the
// OWASP baseline for argon2id).
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// Hasher hashes and verifies passwords with a bound on concurrent work. It
// is safe for concurrent use.
type Hasher struct {
	params  Params
	slots   chan struct{}
	maxWait time.Duration

	// computed counts the expensive computations run (see Computed).
	computed atomic.Uint64

	dummyOnce sync.Once
	dummy     string
	dummyErr  error

	// beforeWork, when set (by tests), runs while a slot is held, just before
	// the expensive computation, with the argon2id parameters about to be
	// used (zero for bcrypt).
	beforeWork func(Params)
}

// New returns a Hasher that hashes with p (zero fields take DefaultParams)
// and runs at most maxConcurrent hashes at once (0 or less means
// runtime.NumCPU()), waiting at most maxWait (0 or less means
// DefaultMaxWait) for a slot; when the wait runs out the call fails with
// ErrBusy. New panics when p is outside the bounds that Verify accepts,
// since such a Hasher could not verify its own hashes.
func New(p Params, maxConcurrent int, maxWait time.Duration) *Hasher {
	def := DefaultParams()
	if p.Memory == 0 {
		p.Memory = def.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = def.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = def.Parallelism
	}
	if p.SaltLen == 0 {
		p.SaltLen = def.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = def.KeyLen
	}
	if err := checkParams(p); err != nil {
		panic(fmt.Sprintf("password.New: %v", err))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Hasher{params: p, slots: make(chan struct{}, maxConcurrent), maxWait: maxWait}
}

// Computed returns how many expensive computations h has run: hashes,
// verifications and dummy verifications alike. Tests use it to check that
// every sign-in path does the same work.
func (h *Hasher) Computed() uint64 { return h.computed.Load() }

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the argon2id hash of password as a PHC string:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, with salt and
// hash in unpadded standard base64.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxLength {
		return "", ErrTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	key := h.derive(password, salt, h.params)
	return encodePHC(h.params, salt, key), nil
}

// Verify checks password against encoded, a hash of any supported kind.
// ok reports a match; needsRehash is true when the password matched but
// encoded should be replaced by a fresh Hash (see NeedsRehash). An empty,
// malformed or out-of-bounds hash yields an error wrapping
// ErrMalformedHash, after the same work as a wrong password against a
// current hash: a user without a password (a federated account) or with an
// unreadable hash cannot be told apart by timing.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	if len(password) > MaxLength {
		return false, false, ErrTooLong
	}
	d, derr := decode(encoded)
	if derr != nil {
		if err := h.VerifyDummy(ctx, password); err != nil {
			return false, false, err
		}
		return false, false, derr
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	h.computed.Add(1)
	if h.beforeWork != nil {
		h.beforeWork(d.argon)
	}
	ok, err = d.check(password)
	if err != nil || !ok {
		return false, false, err
	}
	return true, !h.current(d), nil
}

// NeedsRehash reports whether encoded should be replaced by a fresh Hash:
// true for every kind but argon2id, for argon2id made with parameters
// other than h's, and for anything Verify cannot read.
func (h *Hasher) NeedsRehash(encoded string) bool {
	d, err := decode(encoded)
	return err != nil || !h.current(d)
}

func (h *Hasher) current(d decoded) bool {
	return d.kind == KindArgon2id && d.argon == h.params
}

// VerifyDummy does the work of a Verify against an argon2id hash with h's
// parameters and discards the result. Call it for unknown usernames so that
// the answer takes as long as for a wrong password. It returns only the
// errors Verify could return (ErrTooLong, ErrBusy, a context error).
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() { h.dummy, h.dummyErr = newDummy(h.params) })
	if h.dummyErr != nil {
		return h.dummyErr
	}
	if len(password) > MaxLength {
		return ErrTooLong
	}
	d, err := decode(h.dummy)
	if err != nil {
		return err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	h.computed.Add(1)
	if h.beforeWork != nil {
		h.beforeWork(d.argon)
	}
	_, err = d.check(password)
	return err
}

// newDummy builds a PHC string with random salt and random hash: no
// password matches it (but with probability 2^-8*KeyLen), and verifying
// against it costs exactly what verifying a real hash costs.
func newDummy(p Params) (string, error) {
	buf := make([]byte, p.SaltLen+p.KeyLen)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("make dummy hash: %w", err)
	}
	return encodePHC(p, buf[:p.SaltLen], buf[p.SaltLen:]), nil
}

// derive computes the argon2id key; the caller holds a slot.
func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	h.computed.Add(1)
	if h.beforeWork != nil {
		h.beforeWork(p)
	}
	return argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
}

// acquire takes a hashing slot, waiting at most h.maxWait, and returns the
// function that gives it back.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for password hashing slot: %w", err)
	}
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for password hashing slot: %w", ctx.Err())
	}
}
