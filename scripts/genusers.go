//go:build ignore

// genusers writes a JSON Lines file of N users for `gatehouse import`, with
// precomputed password hashes of every kind (random bytes in each kind's
// exact shape: they import like real ones, though no password matches
// them). It measures the import, not the hashing:
//
//	go run scripts/genusers.go -n 1000000 > users.jsonl
//	gatehouse import --file users.jsonl
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

func main() {
	n := flag.Int("n", 1000000, "number of users")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	enc := json.NewEncoder(w)
	b64 := base64.RawStdEncoding
	ab64 := base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").WithPadding(base64.NoPadding)
	bc := base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)
	buf := make([]byte, 64)
	for i := 0; i < *n; i++ {
		rand.Read(buf)
		var hash string
		switch i % 4 {
		case 0:
			hash = "$argon2id$v=19$m=19456,t=2,p=1$" + b64.EncodeToString(buf[:16]) + "$" + b64.EncodeToString(buf[16:48])
		case 1:
			hash = "$2b$10$" + bc.EncodeToString(buf[:16])[:22] + bc.EncodeToString(buf[16:40])[:31]
		case 2:
			hash = "$pbkdf2-sha256$29000$" + ab64.EncodeToString(buf[:16]) + "$" + ab64.EncodeToString(buf[16:48])
		default:
			hash = "$scrypt$ln=16,r=8,p=1$" + b64.EncodeToString(buf[:16]) + "$" + b64.EncodeToString(buf[16:48])
		}
		u := map[string]any{
			"id":            fmt.Sprintf("%d", 1_000_000_000+i),
			"username":      fmt.Sprintf("user%07d", i),
			"email":         fmt.Sprintf("user%07d@example.com", i),
			"display_name":  fmt.Sprintf("User %d", i),
			"roles":         []string{"member"},
			"attributes":    map[string]any{"plan": "basic", "legacy_id": i},
			"created_at":    "2024-05-01T12:00:00Z",
			"password_hash": hash,
		}
		if err := enc.Encode(u); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
