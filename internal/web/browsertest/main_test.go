// Package browsertest drives the hosted pages with a real headless
// Chromium through the DevTools protocol (chromedp), and relying parties
// built from the stock golang.org/x/oauth2 and coreos/go-oidc packages.
// Every browser test lives here, sharing one Chromium, so that the rest of
// the suite never waits for a browser.
//
// Chromium is looked for on PATH (chromium, chromium-browser,
// google-chrome); scripts/test.sh installs Debian's chromium when it is
// missing. Without a browser the tests skip, except in CI (CI set), where
// they fail.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is the one Chromium of the package; each test opens its own
// browser context (separate cookies) in it.
var browser context.Context

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	path := findChromium()
	if path == "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "browsertest: no Chromium on PATH (chromium, chromium-browser, google-chrome): the browser tests must run in CI (scripts/test.sh installs it)")
			return 1
		}
		fmt.Fprintln(os.Stderr, "browsertest: no Chromium on PATH; skipping the browser tests (run ./scripts/test.sh)")
		return 0
	}
	dir, err := os.MkdirTemp("", "gatehouse-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	b, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first call binds the browser's life to its context: no timeout.
	if err := chromedp.Do(b); err != nil {
		fmt.Fprintln(os.Stderr, "browsertest: start Chromium:", err)
		return 1
	}
	browser = b
	return m.Run()
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab returns a new tab in a fresh browser context (no cookies), closed
// when the test ends.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}
