package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// flakyStore is failure injection for the HTTP layer: it passes every call
// to the memory store until told to fail some (or all) methods.
type flakyStore struct {
	jwtrevoke.Store
	mu   sync.Mutex
	all  bool
	fail map[string]bool
}

func newFlaky(m *memory.Store) *flakyStore { return &flakyStore{Store: m, fail: map[string]bool{}} }

// Down makes every method fail.
func (s *flakyStore) Down() { s.mu.Lock(); s.all = true; s.mu.Unlock() }

// Fail makes these methods fail.
func (s *flakyStore) Fail(methods ...string) {
	s.mu.Lock()
	for _, m := range methods {
		s.fail[m] = true
	}
	s.mu.Unlock()
}

// Up heals the store.
func (s *flakyStore) Up() { s.mu.Lock(); s.all = false; s.fail = map[string]bool{}; s.mu.Unlock() }

func (s *flakyStore) err(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all || s.fail[method] {
		return fmt.Errorf("%s: connection refused: %w", method, jwtrevoke.ErrUnavailable)
	}
	return nil
}

func (s *flakyStore) CreateUser(ctx context.Context, u *jwtrevoke.User) error {
	if err := s.err("CreateUser"); err != nil {
		return err
	}
	return s.Store.CreateUser(ctx, u)
}

func (s *flakyStore) UserByID(ctx context.Context, id int64) (*jwtrevoke.User, error) {
	if err := s.err("UserByID"); err != nil {
		return nil, err
	}
	return s.Store.UserByID(ctx, id)
}

func (s *flakyStore) UserByEmail(ctx context.Context, email string) (*jwtrevoke.User, error) {
	if err := s.err("UserByEmail"); err != nil {
		return nil, err
	}
	return s.Store.UserByEmail(ctx, email)
}

func (s *flakyStore) UpdateUser(ctx context.Context, u *jwtrevoke.User) error {
	if err := s.err("UpdateUser"); err != nil {
		return err
	}
	return s.Store.UpdateUser(ctx, u)
}

func (s *flakyStore) IssueSession(ctx context.Context, t jwtrevoke.OutstandingToken, sess jwtrevoke.Session) error {
	if err := s.err("IssueSession"); err != nil {
		return err
	}
	return s.Store.IssueSession(ctx, t, sess)
}

func (s *flakyStore) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	if err := s.err("IsBlacklisted"); err != nil {
		return false, err
	}
	return s.Store.IsBlacklisted(ctx, jti)
}

func (s *flakyStore) Blacklist(ctx context.Context, t jwtrevoke.OutstandingToken, revs ...jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := s.err("Blacklist"); err != nil {
		return nil, err
	}
	return s.Store.Blacklist(ctx, t, revs...)
}

func (s *flakyStore) Rotate(ctx context.Context, r jwtrevoke.Rotation) (jwtrevoke.Rotation, error) {
	if err := s.err("Rotate"); err != nil {
		return jwtrevoke.Rotation{}, err
	}
	return s.Store.Rotate(ctx, r)
}

func (s *flakyStore) RevokeSession(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := s.err("RevokeSession"); err != nil {
		return nil, err
	}
	return s.Store.RevokeSession(ctx, rev)
}

func (s *flakyStore) RevokeUser(ctx context.Context, rev jwtrevoke.Revocation) ([]jwtrevoke.Revocation, error) {
	if err := s.err("RevokeUser"); err != nil {
		return nil, err
	}
	return s.Store.RevokeUser(ctx, rev)
}

func (s *flakyStore) Revocations(ctx context.Context, afterSeq int64, now time.Time) ([]jwtrevoke.Revocation, error) {
	if err := s.err("Revocations"); err != nil {
		return nil, err
	}
	return s.Store.Revocations(ctx, afterSeq, now)
}

func (s *flakyStore) Sessions(ctx context.Context, userID int64, now time.Time) ([]jwtrevoke.Session, error) {
	if err := s.err("Sessions"); err != nil {
		return nil, err
	}
	return s.Store.Sessions(ctx, userID, now)
}

func (s *flakyStore) OutstandingTokens(ctx context.Context, q jwtrevoke.TokenQuery) ([]jwtrevoke.OutstandingToken, error) {
	if err := s.err("OutstandingTokens"); err != nil {
		return nil, err
	}
	return s.Store.OutstandingTokens(ctx, q)
}

func (s *flakyStore) FlushExpired(ctx context.Context, now time.Time, opts jwtrevoke.FlushOptions) (jwtrevoke.FlushResult, error) {
	if err := s.err("FlushExpired"); err != nil {
		return jwtrevoke.FlushResult{}, err
	}
	return s.Store.FlushExpired(ctx, now, opts)
}

func (s *flakyStore) Setting(ctx context.Context, key, value string) (string, error) {
	if err := s.err("Setting"); err != nil {
		return "", err
	}
	return s.Store.Setting(ctx, key, value)
}

func newFlakyEnv(t *testing.T, opts ...envOption) (*env, *flakyStore) {
	t.Helper()
	var fs *flakyStore
	opts = append(opts, withStore(func(m *memory.Store) jwtrevoke.Store {
		fs = newFlaky(m)
		return fs
	}))
	return newEnv(t, opts...), fs
}

// wantUnavailable checks a 503 answer: JSON with a detail and
// code service_unavailable.
func wantUnavailable(t *testing.T, r resp) {
	t.Helper()
	wantStatus(t, r, http.StatusServiceUnavailable)
	m := jsonObject(t, r.Body)
	if d, _ := m["detail"].(string); d == "" || m["code"] != "service_unavailable" {
		t.Errorf("503 body %s: want {\"detail\": message, \"code\": \"service_unavailable\"}", r.Body)
	}
}

// With the store down, nothing is authenticated and nothing acknowledged.
func TestFailClosedStoreDown(t *testing.T) {
	e, fs := newFlakyEnv(t)
	p := e.MustLogin(userEmail, userPass)
	revoked := e.MustLogin(userEmail, userPass)
	want(t, e.logout(revoked.Access, revoked.Refresh), http.StatusResetContent, bodyLogoutOK)
	fs.Down()

	cases := []struct {
		name string
		do   func() resp
	}{
		{"Login", func() resp {
			return e.post("/api/token/", "", map[string]string{"email": userEmail, "password": userPass})
		}},
		{"LoginWrongPassword", func() resp {
			return e.post("/api/token/", "", map[string]string{"email": userEmail, "password": "nope"})
		}},
		{"Refresh", func() resp { return e.refresh(p.Refresh) }},
		{"VerifyAccess", func() resp { return e.verify(p.Access) }},
		{"VerifyRefresh", func() resp { return e.verify(p.Refresh) }},
		{"Blacklist", func() resp { return e.blacklist(p.Refresh) }},
		{"Logout", func() resp { return e.logout(p.Access, p.Refresh) }},
		{"LogoutAll", func() resp { return e.logoutAll(p.Access) }},
		{"Me", func() resp { return e.me(p.Access) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantUnavailable(t, c.do()) })
	}
	// Tokens revoked before the outage stay refused: revocations are held
	// in memory and checked before the user lookup.
	t.Run("RevokedAccessStillRefused", func(t *testing.T) {
		want(t, e.me(revoked.Access), http.StatusUnauthorized, bearerBody(msgBlacklisted))
		want(t, e.refresh(revoked.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	})
	// Bad tokens are still refused as such: no store needed.
	t.Run("GarbageStillRefused", func(t *testing.T) {
		want(t, e.me("junk"), http.StatusUnauthorized, bearerBody(msgInvalid))
		want(t, e.refresh("junk"), http.StatusUnauthorized, tokenBody(msgInvalid))
	})

	fs.Up()
	t.Run("AfterRecovery", func(t *testing.T) {
		// Nothing was acknowledged during the outage, so nothing changed.
		e.wantMe(p.Access, userEmail)
		e.wantMe(e.mustRefresh(p.Refresh).Access, userEmail)
		want(t, e.logout(p.Access, p.Refresh), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(p.Access)
	})
}

// One failing write at a time: the answer is 503 and the token is not
// revoked (nothing was acknowledged), so the client can retry.
func TestFailClosedWrites(t *testing.T) {
	t.Run("LogoutBlacklistFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t)
		p := e.MustLogin(userEmail, userPass)
		fs.Fail("Blacklist")
		wantUnavailable(t, e.logout(p.Access, p.Refresh))
		if r := e.logout(p.Access, p.Refresh); r.Status == http.StatusResetContent {
			t.Fatal("logout acknowledged while the store fails")
		}
		fs.Up()
		e.wantMe(p.Access, userEmail)
		want(t, e.logout(p.Access, p.Refresh), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(p.Access)
		e.wantRevokedRefresh(p.Refresh)
	})
	t.Run("LogoutBlacklistCheckFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t)
		p := e.MustLogin(userEmail, userPass)
		fs.Fail("IsBlacklisted")
		wantUnavailable(t, e.logout(p.Access, p.Refresh))
		wantUnavailable(t, e.refresh(p.Refresh))
		wantUnavailable(t, e.verify(p.Refresh))
		wantUnavailable(t, e.blacklist(p.Refresh))
		fs.Up()
		e.wantMe(e.mustRefresh(p.Refresh).Access, userEmail)
	})
	t.Run("BlacklistEndpointFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t)
		p := e.MustLogin(userEmail, userPass)
		fs.Fail("Blacklist")
		wantUnavailable(t, e.blacklist(p.Refresh))
		fs.Up()
		e.wantMe(p.Access, userEmail)
		want(t, e.blacklist(p.Refresh), http.StatusOK, bodyEmpty)
	})
	t.Run("LogoutAllFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t)
		p := e.MustLogin(userEmail, userPass)
		fs.Fail("RevokeUser")
		wantUnavailable(t, e.logoutAll(p.Access))
		fs.Up()
		e.wantMe(p.Access, userEmail)
		want(t, e.logoutAll(p.Access), http.StatusResetContent, bodyLogoutOK)
		e.wantRevokedAccess(p.Access)
	})
	t.Run("LoginIssueFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t)
		fs.Fail("IssueSession")
		wantUnavailable(t, e.post("/api/token/", "", map[string]string{"email": userEmail, "password": userPass}))
	})
	t.Run("RotateFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t, withRotation())
		p := e.MustLogin(userEmail, userPass)
		fs.Fail("Rotate")
		wantUnavailable(t, e.refresh(p.Refresh))
		fs.Up()
		p2 := e.mustRefresh(p.Refresh) // the old token was not used up
		if p2.Refresh == "" {
			t.Fatal("no rotated refresh token")
		}
	})
	t.Run("MeUserLookupFails", func(t *testing.T) {
		e, fs := newFlakyEnv(t)
		p := e.MustLogin(userEmail, userPass)
		fs.Fail("UserByID")
		wantUnavailable(t, e.me(p.Access))
		wantUnavailable(t, e.refresh(p.Refresh))
		wantUnavailable(t, e.logout(p.Access, p.Refresh))
		fs.Up()
		e.wantMe(p.Access, userEmail)
	})
}
