package sdk_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fence matches a fenced block of README.md: its info string and body.
var fence = regexp.MustCompile("(?ms)^```([a-z.]*)\n(.*?)^```\n")

// TestREADME_SnippetsCompile builds every Go snippet of README.md, each as
// a package of a module whose go.mod is the README's own (the replace
// directive pointed at this directory), so that the README's instructions
// and code stay true. It runs offline: only this module's dependencies,
// already in the module cache, are needed.
func TestREADME_SnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's snippets with the go command")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the README's snippets: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sdkDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	var gomod string
	snippets := 0
	for _, m := range fence.FindAllStringSubmatch(string(readme), -1) {
		info, body := m[1], m[2]
		switch info {
		case "go.mod":
			gomod = body
		case "go":
			if !strings.HasPrefix(body, "package ") {
				t.Errorf("README snippet %d is not a whole file (it must start with a package clause):\n%s", snippets+1, body)
				continue
			}
			snippets++
			dir := filepath.Join(mod, fmt.Sprintf("snippet%d", snippets))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if gomod == "" || snippets < 3 {
		t.Fatalf("README has no go.mod block or fewer than 3 Go snippets (%d)", snippets)
	}
	const replace = "=> ../gatehouse/sdk"
	if !strings.Contains(gomod, replace) || !strings.Contains(gomod, "require github.com/gatehouse-auth/gatehouse/sdk v0.0.0") {
		t.Fatalf("README go.mod lacks the require v0.0.0 or the replace directive:\n%s", gomod)
	}
	gomod = strings.Replace(gomod, replace, "=> "+sdkDir, 1)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	// The checksums go mod tidy would fetch from the checksum database are
	// this module's own.
	sums, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sums, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gobin, args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("mod", "tidy") // what the README tells the reader to run
	run("vet", "./...")
}
