package userfile

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gatehouse-auth/gatehouse/internal/core"
	"github.com/gatehouse-auth/gatehouse/internal/store"
)

// Export writes every user of the tenant to w, one line each in id order,
// password hashes included, and returns how many it wrote. target names
// the file in the audit event.
func Export(ctx context.Context, svc *core.Service, tenant, target string, m core.Meta, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n, err := svc.ExportUsers(ctx, tenant, target, m, func(u store.User) error {
		if err := enc.Encode(recordOf(u)); err != nil {
			return fmt.Errorf("export: write: %w", err)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export: write: %w", err)
	}
	return n, nil
}
