package config

import (
	"os"
	"strings"
	"testing"
)

// TestDocs_ListEverySetting keeps docs/configuration.md in step with the
// settings Load understands.
func TestDocs_ListEverySetting(t *testing.T) {
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	doc := string(data)
	for _, f := range fields {
		row := "| `" + f.env + "` | `" + f.key() + "` |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/configuration.md has no table row starting %s", row)
		}
	}
	for _, k := range []string{"`" + FileEnv + "`", "`" + providersKey + "`"} {
		if !strings.Contains(doc, k) {
			t.Errorf("docs/configuration.md does not mention %s", k)
		}
	}
}

// TestDocs_ExampleLoads checks that the example file in the docs is valid.
func TestDocs_ExampleLoads(t *testing.T) {
	data, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	_, rest, ok := strings.Cut(string(data), "## Example\n\n```yaml\n")
	if !ok {
		t.Fatal("docs/configuration.md has no YAML example")
	}
	example, _, _ := strings.Cut(rest, "```")
	c, err := Load(writeFile(t, example), env(map[string]string{
		"GATEHOUSE_MASTER_KEY": testMasterKey,
		"GATEHOUSE_LOG_LEVEL":  "debug",
	}))
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	if c.LogLevel != "debug" || c.Issuer != "https://auth.example.com" || len(c.Providers) != 2 {
		t.Errorf("example loaded as %+v", c)
	}
}
