package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/sqlstore"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestBlacklistFeed: a blacklist SimpleJWT writes into the shared file
// reaches the in-memory view without refresh asking the file.
func TestBlacklistFeed(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "feed.db"))
	defer st.Close()
	storetest.RunBlacklistFeed(t, st, func(ctx context.Context, jti string) error {
		_, err := st.W.ExecContext(ctx, `INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at)
			SELECT id, ? FROM token_blacklist_outstandingtoken WHERE jti = ?`, sqlstore.TextTime(time.Now()), jti)
		return err
	})
}
