package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestBlacklistFeed: a blacklist SimpleJWT writes into the shared
// database reaches the in-memory view without refresh asking the database.
func TestBlacklistFeed(t *testing.T) {
	st := mustOpen(t, testdb.Postgres(t))
	defer st.Close()
	storetest.RunBlacklistFeed(t, st, func(ctx context.Context, jti string) error {
		_, err := st.W.ExecContext(ctx, `INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at)
			SELECT id, $1 FROM token_blacklist_outstandingtoken WHERE jti = $2`, time.Now(), jti)
		return err
	})
}
