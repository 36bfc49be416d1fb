package storetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/password"
)

// feedStore counts the store's IsBlacklisted answers and keeps the
// store's BlacklistFeed visible.
type feedStore struct {
	jwtrevoke.Store
	feed  jwtrevoke.BlacklistFeed
	asked atomic.Int64
}

func (f *feedStore) IsBlacklisted(ctx context.Context, jti string) (bool, error) {
	f.asked.Add(1)
	return f.Store.IsBlacklisted(ctx, jti)
}

func (f *feedStore) BlacklistedAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]jwtrevoke.BlacklistEntry, error) {
	return f.feed.BlacklistedAfter(ctx, afterID, now, limit)
}

// RunBlacklistFeed checks a store's jwtrevoke.BlacklistFeed through a
// Service: while Maintain runs, a refresh asks the store nothing; a
// blacklist row written behind jwtrevoke's back (django blacklists the
// outstanding token of this jti as SimpleJWT does, by inserting into
// token_blacklist_blacklistedtoken) is refused by refresh and verify
// within moments, and only that token; once Maintain stops, the store is
// asked again.
func RunBlacklistFeed(t *testing.T, st jwtrevoke.Store, django func(ctx context.Context, jti string) error) {
	feed, ok := jwtrevoke.FeedOf(st)
	if !ok {
		t.Fatal("the store has no BlacklistFeed")
	}
	fs := &feedStore{Store: st, feed: feed}
	s := jwtrevoke.DefaultSettings()
	s.SigningKey = "blacklist-feed-test-signing-key-0123456789"
	s.RevocationPollInterval = 20 * time.Millisecond
	s.LoginRatePerIP, s.LoginRatePerAccount = jwtrevoke.Rate{}, jwtrevoke.Rate{}
	ctx := t.Context()
	svc, err := jwtrevoke.New(ctx, fs, s, jwtrevoke.Options{
		Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	const email, pass = "feed@email.com", "feed-password-1"
	if _, err := svc.CreateUser(ctx, email, pass, false); err != nil {
		t.Fatal(err)
	}
	victim, err := svc.Obtain(ctx, email, pass, jwtrevoke.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Obtain(ctx, email, pass, jwtrevoke.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}

	// Without Maintain: the store is asked.
	before := fs.asked.Load()
	if _, err := svc.Refresh(ctx, victim.Refresh); err != nil {
		t.Fatal(err)
	}
	if fs.asked.Load() == before {
		t.Fatal("refresh did not ask the store without Maintain running")
	}

	mctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); svc.Maintain(mctx) }()
	defer func() { stop(); <-done }()
	eventually(t, "a refresh that asks the store nothing", func() bool {
		before := fs.asked.Load()
		if _, err := svc.Refresh(ctx, victim.Refresh); err != nil {
			t.Fatal(err)
		}
		return fs.asked.Load() == before
	})

	if err := django(ctx, jtiOf(t, victim.Refresh)); err != nil {
		t.Fatalf("blacklist behind jwtrevoke's back: %v", err)
	}
	eventually(t, "refresh refusing the token SimpleJWT blacklisted", func() bool {
		_, err := svc.Refresh(ctx, victim.Refresh)
		if err != nil && !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
			t.Fatalf("refresh: %v", err)
		}
		return err != nil
	})
	if err := svc.Verify(ctx, victim.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
		t.Fatalf("verify of the blacklisted token: %v", err)
	}
	if _, err := svc.Refresh(ctx, other.Refresh); err != nil {
		t.Fatalf("the other session's refresh: %v", err)
	}

	stop()
	<-done
	before = fs.asked.Load()
	if _, err := svc.Refresh(ctx, other.Refresh); err != nil {
		t.Fatal(err)
	}
	if fs.asked.Load() == before {
		t.Fatal("refresh did not ask the store after Maintain stopped")
	}
	if _, err := svc.Refresh(ctx, victim.Refresh); !errors.Is(err, jwtrevoke.ErrTokenBlacklisted) {
		t.Fatalf("refresh of the blacklisted token after Maintain stopped: %v", err)
	}
}

// eventually fails t unless cond holds within 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jtiOf reads the jti claim of an encoded token, unverified.
func jtiOf(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.JTI == "" {
		t.Fatalf("no jti in %s: %v", b, err)
	}
	return c.JTI
}
