package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/telemetry"
)

// newFlags returns a flag set whose --help prints the command's summary.
func newFlags(name, summary string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: gatehouse %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// configFlag adds --config to fs.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", os.Getenv("GATEHOUSE_CONFIG"), "YAML configuration file (env GATEHOUSE_CONFIG); environment variables override it")
}

func loadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		return config.Config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// newLogger writes JSON logs at the configured level to w, with the trace
// and span ids in every line logged in a traced context.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// cliLogger is the log of a one-off command: warnings and errors only
// (unless GATEHOUSE_LOG_LEVEL is debug), since a terminal has no use for the
// start-up INFO lines of serve.
func cliLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.LogLevel == "debug" {
		return newLogger(cfg, w)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// warnUnknownEnv logs a warning for every GATEHOUSE_* variable that no
// setting reads, with the known variable that was probably meant.
func warnUnknownEnv(log *slog.Logger) {
	for _, v := range config.UnknownEnv(os.Environ()) {
		if v.Closest != "" {
			log.Warn("unknown environment variable ignored; did you mean "+v.Closest+"?", "name", v.Name, "closest", v.Closest)
		} else {
			log.Warn("unknown environment variable ignored: no Gatehouse setting has this name (see docs/configuration.md)", "name", v.Name)
		}
	}
}
