package jwtrevoke_test

import (
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// TestServiceStats: the service's Stats are the store's, at the service's
// clock: a login is a live session and token, a blacklisting moves the
// token to the blacklisted count and records a revocation within the hour.
func TestServiceStats(t *testing.T) {
	svc := mustService(t, memory.New())
	mustUser(t, svc, "stats@x.io")
	p := mustLogin(t, svc, "stats@x.io")
	mustLogin(t, svc, "stats@x.io")
	st, err := svc.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.LiveSessions != 2 || st.LiveTokens != 2 || st.BlacklistedTokens != 0 || st.RevokedLastHour != 0 {
		t.Fatalf("after two logins: %+v", st)
	}
	if err := svc.Blacklist(t.Context(), p.Refresh); err != nil {
		t.Fatal(err)
	}
	st, err = svc.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := jwtrevoke.Stats{LiveTokens: 1, BlacklistedTokens: 1, LiveSessions: 1, Revocations: 1, RevokedLastHour: 1, RevokedLastDay: 1}
	if st != want {
		t.Fatalf("after a blacklisting: %+v, want %+v", st, want)
	}
}
