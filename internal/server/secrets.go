package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/token"
)

// MasterKey returns the 32-byte master key: GATEHOUSE_MASTER_KEY when set;
// for SQLite, else the key file in the data directory, generated on first
// start; for PostgreSQL it is required (every process must share it).
func MasterKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.MasterKey != "" {
		k, err := token.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_MASTER_KEY (master_key): %w", err)
		}
		return k, nil
	}
	if cfg.DBKind() != "sqlite" {
		return nil, errors.New("GATEHOUSE_MASTER_KEY (master_key) is required with PostgreSQL: every process must share it (generate one with `openssl rand -hex 32`)")
	}
	path := filepath.Join(cfg.DataDir, "master.key")
	v, created, err := readOrCreateSecret(path, func() string {
		var b [32]byte
		mustRead(b[:])
		return hex.EncodeToString(b[:])
	})
	if err != nil {
		return nil, secretFileErr(cfg, "master key", path, err, "GATEHOUSE_MASTER_KEY")
	}
	if created {
		log.Warn("generated a master key; back it up: without it the signing keys and TOTP secrets cannot be read", "path", path)
	}
	k, err := token.ParseMasterKey(v)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, nil
}

// AdminKey returns the admin API key: GATEHOUSE_ADMIN_KEY when set, else the
// key file in the data directory, generated on first start. The key itself is
// never logged, only the file's path.
func AdminKey(cfg config.Config, log *slog.Logger) (string, error) {
	if cfg.AdminKey != "" {
		return cfg.AdminKey, nil
	}
	path := filepath.Join(cfg.DataDir, "admin.key")
	v, created, err := readOrCreateSecret(path, func() string {
		var b [32]byte
		mustRead(b[:])
		return base64.RawURLEncoding.EncodeToString(b[:])
	})
	if err != nil {
		return "", secretFileErr(cfg, "admin key", path, err, "GATEHOUSE_ADMIN_KEY")
	}
	if created {
		log.Info("generated the admin API key", "path", path)
	} else {
		log.Info("using the admin API key from file", "path", path)
	}
	return v, nil
}

// secretFileErr explains a failure to read or create a key file in the data
// directory: most often the directory itself is not usable (not writable by
// this user, or a path through a regular file), which the bare error of the
// file system does not say.
func secretFileErr(cfg config.Config, what, path string, err error, env string) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s file %s: %w", what, path, err)
	}
	return fmt.Errorf("data directory %s is not usable: %s %s: %v: make it a directory this user can read and write, point GATEHOUSE_DATA_DIR elsewhere, or set %s",
		cfg.DataDir, pe.Op, pe.Path, pe.Err, env)
}

// readOrCreateSecret reads a one-line secret file, or creates it (mode
// 0600, exclusively, so two processes starting together agree).
func readOrCreateSecret(path string, gen func() string) (string, bool, error) {
	if b, err := os.ReadFile(path); err == nil {
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", false, fmt.Errorf("%s is empty", path)
		}
		return v, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readOrCreateSecret(path, gen)
	}
	if err != nil {
		return "", false, err
	}
	v := gen()
	if _, err := f.WriteString(v + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, err
	}
	return v, true, f.Close()
}

func mustRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
}
