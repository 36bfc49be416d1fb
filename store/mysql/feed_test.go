package mysql_test

import (
	"context"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke/internal/testdb"
	"github.com/jwtrevoke/jwtrevoke/store/mysql"
	"github.com/jwtrevoke/jwtrevoke/store/storetest"
)

// TestBlacklistFeed: a blacklist SimpleJWT writes into the shared
// database reaches the in-memory view without refresh asking the database.
func TestBlacklistFeed(t *testing.T) {
	st, err := mysql.Open(t.Context(), testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.RunBlacklistFeed(t, st, func(ctx context.Context, jti string) error {
		_, err := st.W.ExecContext(ctx, `INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at)
			SELECT id, ? FROM token_blacklist_outstandingtoken WHERE jti = ?`, time.Now().UTC(), jti)
		return err
	})
}
