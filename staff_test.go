package jwtrevoke_test

import (
	"errors"
	"testing"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// TestCheckStaffRecordsOnlyStaff: with UPDATE_LAST_LOGIN on, a staff
// sign-in records the login; a user who is not staff, even with the right
// password, is refused as a wrong password is and leaves nothing behind.
func TestCheckStaffRecordsOnlyStaff(t *testing.T) {
	st := memory.New()
	svc := mustService(t, st, func(s *jwtrevoke.Settings) { s.UpdateLastLogin = true })
	user := mustUser(t, svc, "user@x.io")
	staff, err := svc.CreateUser(t.Context(), "staff@x.io", "pw-staff@x.io", true)
	if err != nil {
		t.Fatal(err)
	}
	info := jwtrevoke.ClientInfo{IP: "127.0.0.1"}
	if _, err := svc.CheckStaff(t.Context(), "user@x.io", "pw-user@x.io", info); !errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
		t.Fatalf("non-staff: %v, want ErrNoActiveAccount", err)
	}
	if u, err := st.UserByID(t.Context(), user.ID); err != nil || u.LastLogin != nil {
		t.Fatalf("non-staff refused, yet last login %v (%v)", u.LastLogin, err)
	}
	if _, err := svc.CheckStaff(t.Context(), "staff@x.io", "pw-staff@x.io", info); err != nil {
		t.Fatalf("staff: %v", err)
	}
	if u, err := st.UserByID(t.Context(), staff.ID); err != nil || u.LastLogin == nil {
		t.Fatalf("staff signed in, last login %v (%v)", u.LastLogin, err)
	}
}
