package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/telemetry"
)

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("serve", "Run the server. With no configuration it listens on 127.0.0.1:8080 and keeps\neverything in SQLite under ./gatehouse-data/.", stderr)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	warnUnknownEnv(log)
	tp, stopTracing, err := telemetry.Setup(ctx, os.Getenv, version)
	if err != nil {
		return err
	}
	defer func() {
		// Flush the spans of the last requests, within a bound.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTracing(sctx); err != nil {
			log.Warn("trace export at shutdown failed", "err", err)
		}
	}()
	if tp != nil {
		log.Info("tracing on: spans are exported over OTLP/HTTP")
	}
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, TracerProvider: tp})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if on, why := srv.Service.PasskeysEnabled(); on {
		log.Info("passkeys on", "rp_id", srv.Service.PasskeyRPID())
	} else {
		log.Warn(why)
	}
	log.Info("gatehouse listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "store", srv.Store.Kind(), "database", cfg.DBLocation(), "version", version)
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "Apply the pending database migrations and exit.", stderr)
	cfgPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	warnUnknownEnv(cliLogger(cfg, stderr))
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", st.Kind())
	if legacy, err := st.ListLegacyUsernames(ctx, ""); err == nil && len(legacy) > 0 {
		fmt.Fprintf(stdout, "%d users keep usernames that compare equal to another user's or that the username profile refuses;\n"+
			"they sign in under their stored names until renamed: see GET /admin/username-collisions\n", len(legacy))
	}
	return nil
}
