package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
)

// account is a user the run created, with its password.
type account struct {
	id       string
	username string
	password string
}

// appClient is a client the run registered for the app family.
type appClient struct {
	id     string
	secret string
}

// fixtures are what a run created on the server, removed at its end.
type fixtures struct {
	c       *client
	prefix  string // makes the run's names unique
	mu      sync.Mutex
	users   []account
	clients []appClient
}

func newFixtures(c *client) (*fixtures, error) {
	p, err := randomHex(6)
	if err != nil {
		return nil, err
	}
	return &fixtures{c: c, prefix: "loadtest-" + p}, nil
}

// createUsers creates n users in parallel (each creation hashes a password).
func (f *fixtures) createUsers(ctx context.Context, n int) ([]account, error) {
	out := make([]account, n)
	err := parallel(ctx, n, 8, func(ctx context.Context, i int) error {
		pw, err := randomHex(16)
		if err != nil {
			return err
		}
		a := account{username: fmt.Sprintf("%s-%d", f.prefix, i), password: pw}
		var created struct {
			ID string `json:"id"`
		}
		if err := f.c.admin(ctx, "POST", "/admin/users", map[string]any{"username": a.username, "password": a.password}, &created, http.StatusCreated); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		a.id = created.ID
		out[i] = a
		f.mu.Lock()
		f.users = append(f.users, a)
		f.mu.Unlock()
		return nil
	})
	return out, err
}

// createClient registers a confidential client for the app family.
func (f *fixtures) createClient(ctx context.Context) (appClient, error) {
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := f.c.admin(ctx, "POST", "/admin/clients", map[string]any{"name": f.prefix}, &created, http.StatusCreated); err != nil {
		return appClient{}, fmt.Errorf("create client: %w", err)
	}
	if created.ClientID == "" || created.ClientSecret == "" {
		return appClient{}, errors.New("create client: the answer has no credentials")
	}
	ac := appClient{id: created.ClientID, secret: created.ClientSecret}
	f.mu.Lock()
	f.clients = append(f.clients, ac)
	f.mu.Unlock()
	return ac, nil
}

// cleanup deletes the run's users (which revokes their sessions) and clients.
func (f *fixtures) cleanup(ctx context.Context) error {
	var errs []error
	for _, u := range f.users {
		if err := f.c.admin(ctx, "DELETE", "/admin/users/"+url.PathEscape(u.id), nil, nil, http.StatusNoContent); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range f.clients {
		if err := f.c.admin(ctx, "DELETE", "/admin/clients/"+url.PathEscape(c.id), nil, nil, http.StatusNoContent); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pair is the tokens of a native sign-in or refresh.
type pair struct {
	access  string
	refresh string
}

// login signs a in with the native family, once.
func (c *client) login(ctx context.Context, a account, buf *bytes.Buffer) (pair, int, error) {
	return c.loginWith(ctx, c.do, a, buf)
}

// prepLogin signs a in for the preparation, waiting while the server is busy.
func (c *client) prepLogin(ctx context.Context, a account, buf *bytes.Buffer) (pair, int, error) {
	return c.loginWith(ctx, c.retrying, a, buf)
}

func (c *client) loginWith(ctx context.Context, send func(context.Context, request, *bytes.Buffer) (int, error), a account, buf *bytes.Buffer) (pair, int, error) {
	status, err := send(ctx, request{method: "POST", path: "/auth/login", ctype: "application/json",
		body: jsonBody("username", a.username, "password", a.password)}, buf)
	if err != nil || status != http.StatusOK {
		return pair{}, status, fmt.Errorf("login: status %d: %w", status, orAnswer(err, buf))
	}
	p := pair{access: jsonField(buf.Bytes(), "access_token"), refresh: jsonField(buf.Bytes(), "refresh_token")}
	if p.access == "" || p.refresh == "" {
		return pair{}, status, fmt.Errorf("login: no tokens in the answer (a second factor required?): %s", truncate(buf.Bytes(), 200))
	}
	return p, status, nil
}

// refresh rotates a native refresh token.
func (c *client) refresh(ctx context.Context, refresh string, buf *bytes.Buffer) (pair, int, error) {
	status, err := c.do(ctx, request{method: "POST", path: "/auth/refresh", ctype: "application/json",
		body: jsonBody("refresh_token", refresh)}, buf)
	if err != nil || status != http.StatusOK {
		return pair{}, status, fmt.Errorf("refresh: status %d: %w", status, orAnswer(err, buf))
	}
	p := pair{access: jsonField(buf.Bytes(), "access_token"), refresh: jsonField(buf.Bytes(), "refresh_token")}
	if p.refresh == "" {
		return pair{}, status, errors.New("refresh: no refresh token in the answer")
	}
	return p, status, nil
}

// appLogin opens an app session from a user access token and returns its
// access and (non-rotating) refresh token.
func (c *client) appLogin(ctx context.Context, ac appClient, userAccess string, buf *bytes.Buffer) (pair, error) {
	form := url.Values{"token": {userAccess}, "grantType": {"refresh_token"}}
	if err := c.appCall(ctx, ac, "/api/v1/public/login/verify", form, buf); err != nil {
		return pair{}, fmt.Errorf("app login: %w", err)
	}
	p := pair{access: jsonField(buf.Bytes(), "accessToken"), refresh: jsonField(buf.Bytes(), "refreshToken")}
	if p.access == "" || p.refresh == "" {
		return pair{}, errors.New("app login: no tokens in the answer")
	}
	return p, nil
}

// appAccess asks for a fresh access token of an app session.
func (c *client) appAccess(ctx context.Context, ac appClient, appRefresh string, buf *bytes.Buffer) (string, error) {
	if err := c.appCall(ctx, ac, "/api/v1/app/token/refresh", url.Values{"token": {appRefresh}}, buf); err != nil {
		return "", fmt.Errorf("app refresh: %w", err)
	}
	at := jsonField(buf.Bytes(), "accessToken")
	if at == "" {
		return "", errors.New("app refresh: no access token in the answer")
	}
	return at, nil
}

// appCall sends a form request of the app family and requires code 0.
func (c *client) appCall(ctx context.Context, ac appClient, path string, form url.Values, buf *bytes.Buffer) error {
	status, err := c.do(ctx, request{method: "POST", path: path, ctype: "application/x-www-form-urlencoded",
		body: []byte(form.Encode()), basic: &[2]string{ac.id, ac.secret}}, buf)
	if err != nil {
		return err
	}
	if key := appKey(status, buf.Bytes()); key != "" {
		return fmt.Errorf("%s: %s", key, truncate(buf.Bytes(), 200))
	}
	return nil
}

// appKey is the error class of an app-family answer, empty for code 0.
func appKey(status int, body []byte) string {
	if status == http.StatusOK && (bytes.HasPrefix(body, []byte(`{"code":0,`)) || bytes.HasPrefix(body, []byte(`{"code":0}`))) {
		return ""
	}
	if status != http.StatusOK {
		return statusKey(status, nil)
	}
	code := "?"
	if i := bytes.IndexByte(body, ','); bytes.HasPrefix(body, []byte(`{"code":`)) && i > 8 {
		code = string(body[8:i])
	}
	return "200 code " + code
}

func orAnswer(err error, buf *bytes.Buffer) error {
	if err != nil {
		return err
	}
	return errors.New(truncate(buf.Bytes(), 200))
}

// parallel runs fn(i) for i in [0, n) on at most width goroutines and
// returns the first error.
func parallel(ctx context.Context, n, width int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, width) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
