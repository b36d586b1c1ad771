// Package server assembles a Gatehouse server from its configuration: the
// store, the keys, the core service, the API families and the HTTP server.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/events"
	"github.com/gatehouse-auth/gatehouse/internal/federation"
	"github.com/gatehouse-auth/gatehouse/internal/metrics"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/safeurl"
	"github.com/gatehouse-auth/gatehouse/internal/store"
	"github.com/gatehouse-auth/gatehouse/internal/token"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

// Options adjust a server for tests.
type Options struct {
	Clock  core.Clock
	Logger *slog.Logger
	// HashParams overrides the argon2id parameters (tests use cheap ones).
	HashParams *password.Params
	// TracerProvider, when set, traces every request, store call and
	// outgoing request (see internal/telemetry); nil traces nothing.
	TracerProvider trace.TracerProvider
}

// Server is an assembled Gatehouse.
type Server struct {
	Config  config.Config
	Store   store.Store
	Keys    *token.KeySet
	Service *core.Service
	Metrics *metrics.Metrics
	// Events delivers the outbox (webhooks) in the background.
	Events  *events.Dispatcher
	Handler http.Handler
	log     *slog.Logger
	tracer  trace.TracerProvider // nil: no tracing

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the store, loads or creates the keys, ensures the default
// tenant and builds the HTTP handler. Background work (key reload,
// revocation feed, sweeping) runs until Close.
func New(ctx context.Context, cfg config.Config, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	clock := opts.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	master, err := MasterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	adminKey, err := AdminKey(cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, opts.TracerProvider)
	if err != nil {
		return nil, err
	}
	s, err := assemble(ctx, cfg, opts, st, master, adminKey, clock, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func assemble(ctx context.Context, cfg config.Config, opts Options, st store.Store, master []byte, adminKey string, clock core.Clock, log *slog.Logger) (*Server, error) {
	keySealer, err := token.NewSealer(master, "signing-keys")
	if err != nil {
		return nil, err
	}
	retrySealer, err := token.NewSealer(master, "refresh-retry")
	if err != nil {
		return nil, err
	}
	totpSealer, err := token.NewSealer(master, "totp-secrets")
	if err != nil {
		return nil, err
	}
	keyed, err := token.NewKeyedHash(master, "mfa-and-devices")
	if err != nil {
		return nil, err
	}
	webhookSealer, err := token.NewSealer(master, "webhook-secrets")
	if err != nil {
		return nil, err
	}
	tp := opts.TracerProvider
	dispatcher, err := events.New(events.Options{
		Store: st, Sealer: webhookSealer, Now: clock.Now, Logger: log,
		Client:  traced(safeurl.Client(cfg.WebhookTimeout, cfg.WebhookAllowInsecure), tp),
		Timeout: cfg.WebhookTimeout, RetryBase: cfg.WebhookRetryBase, Poll: cfg.WebhookPoll,
		TracerProvider: tp,
	})
	if err != nil {
		return nil, err
	}
	keys, err := token.NewKeySet(ctx, st, keySealer, token.KeySetOptions{
		Issuer: cfg.Issuer, Alg: cfg.SigningAlg, AccessTTL: cfg.AccessTokenTTL,
		ActivationDelay: cfg.KeyActivationDelay, Now: clock.Now, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	params := password.Params{}
	if opts.HashParams != nil {
		params = *opts.HashParams
	}
	m := metrics.New()
	svc, err := core.New(core.Deps{
		Store: st, Keys: keys, Hasher: password.New(params, 0, 0), Sealer: retrySealer,
		Clock: clock, Metrics: m, Logger: log, AdminKey: adminKey,
		TOTPSealer: totpSealer, KeyedHash: keyed,
		WebhookSealer: webhookSealer, Events: dispatcher,
		ProviderClient: traced(federation.NewHTTPClient(cfg.ProviderAllowInsecure), tp),
	}, PolicyOf(cfg))
	if err != nil {
		return nil, err
	}
	if err := svc.EnsureTenant(ctx, core.DefaultTenant, "Default"); err != nil {
		return nil, fmt.Errorf("default tenant: %w", err)
	}
	if err := svc.SyncProviders(ctx, providersOf(cfg)); err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	if err := svc.SyncRevocations(ctx); err != nil {
		return nil, fmt.Errorf("revocations: %w", err)
	}
	svc.ReportUsernameCollisions(ctx)
	s := &Server{Config: cfg, Store: st, Keys: keys, Service: svc, Metrics: m, Events: dispatcher, log: log, tracer: tp}
	s.Handler = s.routes()
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.background(bg)
	return s, nil
}

// traced makes c's requests client spans of tp; with a nil tp it returns c.
func traced(c *http.Client, tp trace.TracerProvider) *http.Client {
	if tp == nil {
		return c
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(tp))
	return c
}

// PolicyOf extracts the core's policy from the configuration.
func PolicyOf(cfg config.Config) core.Policy {
	return core.Policy{
		Issuer:                    cfg.Issuer,
		AccessTTL:                 cfg.AccessTokenTTL,
		RefreshTTL:                cfg.RefreshTokenTTL,
		SessionMaxLifetime:        cfg.SessionMaxLifetime,
		ReuseLeeway:               cfg.RefreshReuseLeeway,
		LoginMaxFailures:          cfg.LoginMaxFailures,
		LoginLockout:              cfg.LoginLockout,
		IPMaxFailures:             cfg.IPMaxFailures,
		ReauthMaxAge:              cfg.ReauthMaxAge,
		PasswordMinLength:         cfg.PasswordMinLength,
		PasswordMaxAge:            cfg.PasswordMaxAge,
		PasswordWarnBefore:        cfg.PasswordWarnBefore,
		PasswordGrace:             cfg.PasswordGrace,
		MFAMode:                   cfg.MFAMode,
		MFARiskLevel:              cfg.MFARiskLevel,
		TicketMaxTTL:              cfg.TicketMaxTTL,
		BrowserSessionTTL:         cfg.BrowserSessionTTL,
		BrowserSessionMaxLifetime: cfg.BrowserSessionMaxLifetime,

		ProviderAllowInsecure: cfg.ProviderAllowInsecure,
		WebhookAllowInsecure:  cfg.WebhookAllowInsecure,
		WebAuthnRPID:          cfg.WebAuthnRPID,
		WebAuthnOrigins:       cfg.WebAuthnOrigins,
	}
}

func (s *Server) background(ctx context.Context) {
	run := func(f func()) {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); f() }()
	}
	run(func() { s.Keys.Watch(ctx, s.Config.KeyReloadInterval) })
	run(func() { s.Service.WatchRevocations(ctx, s.Config.RevocationPoll) })
	run(func() { s.Events.Run(ctx) })
	run(func() {
		t := time.NewTicker(5 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.Service.Sweep(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("sweep failed", "err", err)
				}
			}
		}
	})
}

// Close stops the background work and closes the store.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.Store.Close()
}

// Serve accepts connections on ln until ctx is done, then stops accepting,
// lets in-flight requests finish (up to the shutdown timeout) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.Config.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
