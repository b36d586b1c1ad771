// Command gatehouse runs the Gatehouse authentication and token service and
// its maintenance tasks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"migrate", "apply the database migrations and exit", runMigrate},
		{"user", "manage users (user create, user delete)", runUser},
		{"import", "import users from a JSON Lines file", runImport},
		{"export", "export a tenant's users as JSON Lines", runExport},
		{"keys", "manage signing keys (keys rotate)", runKeys},
		{"ticket", "issue one-time sign-in tickets (ticket issue)", runTicket},
		{"loadtest", "measure a running server (loadtest --mode chain|verify|login|baseline)", runLoadtest},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var code exitCode
	if errors.As(err, &code) {
		os.Exit(int(code))
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // --help is an answer, not a failure
		}
		for _, line := range errorLines(err) {
			fmt.Fprintln(os.Stderr, "gatehouse:", line)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("a command is required")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: gatehouse <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --config FILE (or GATEHOUSE_CONFIG) and --help.")
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "Print the version. --config is accepted like everywhere else, and not read.", stderr)
	configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "gatehouse", version)
	return nil
}
