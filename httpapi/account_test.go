package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// POST /api/password/change/: Django's validation messages, and a change
// revokes every session of the user (the caller's too).
func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	other := e.MustLogin(userEmail, userPass)
	second := e.MustLogin(secondEmail, secondPass)
	change := func(bearer string, body any) resp { return e.post("/api/password/change/", bearer, body) }

	want(t, change("", map[string]string{"old_password": userPass, "new_password": "n3w-passw0rd"}), http.StatusUnauthorized, bodyNoCredentials)
	want(t, change(p.Access, map[string]string{}), http.StatusBadRequest,
		`{"old_password":["This field is required."],"new_password":["This field is required."]}`)
	want(t, change(p.Access, map[string]string{"old_password": "wrong", "new_password": "n3w-passw0rd"}), http.StatusBadRequest,
		`{"old_password":["Your old password was entered incorrectly. Please enter it again."]}`)
	want(t, change(p.Access, map[string]string{"old_password": userPass, "new_password": "1234"}), http.StatusBadRequest,
		`{"new_password":["This password is too short. It must contain at least 8 characters.","This password is entirely numeric."]}`)
	want(t, change(p.Access, map[string]string{"old_password": userPass, "new_password": userPass}), http.StatusBadRequest,
		`{"new_password":["The new password must differ from the old one."]}`)
	want(t, change(p.Access, `{"old_password": `), http.StatusBadRequest,
		`{"detail":"JSON parse error - Expecting value: line 1 column 18 (char 17)"}`)
	// Nothing was changed or revoked by the refused attempts.
	e.wantMe(p.Access, userEmail)

	want(t, change(p.Access, map[string]string{"old_password": userPass, "new_password": " n3w passw0rd "}), http.StatusOK,
		`{"detail":"New password has been saved."}`)
	for _, q := range []pair{p, other} {
		e.wantRevokedAccess(q.Access)
		want(t, e.refresh(q.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	}
	e.wantMe(second.Access, secondEmail) // another user is untouched
	want(t, e.post("/api/token/", "", map[string]string{"email": userEmail, "password": userPass}), http.StatusUnauthorized, bodyNoActiveAccount)
	// The new password is kept as typed, spaces included.
	e.wantMe(e.MustLogin(userEmail, " n3w passw0rd ").Access, userEmail)
}

// Deactivating a user revokes every token issued to them; reactivating
// does not bring those tokens back.
func TestDeactivateRevokes(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	id := e.users[userEmail].ID
	if err := e.svc.SetActive(t.Context(), id, false); err != nil {
		t.Fatal(err)
	}
	want(t, e.post("/api/token/", "", map[string]string{"email": userEmail, "password": userPass}), http.StatusUnauthorized, bodyNoActiveAccount)
	if err := e.svc.SetActive(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	e.wantRevokedAccess(p.Access)
	want(t, e.refresh(p.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	e.wantMe(e.MustLogin(userEmail, userPass).Access, userEmail)
}

// GET /api/sessions/ lists the caller's live sessions with their device;
// DELETE /api/sessions/{id}/ ends one, and only the caller's own.
func TestSessionsAPI(t *testing.T) {
	e := newEnv(t)
	phone := decodePair(t, e.request(http.MethodPost, "/api/token/", strings.NewReader(`{"email":"`+userEmail+`","password":"`+userPass+`"}`),
		"Content-Type", "application/json", "User-Agent", "phone/1.0"))
	laptop := decodePair(t, e.request(http.MethodPost, "/api/token/", strings.NewReader(`{"email":"`+userEmail+`","password":"`+userPass+`"}`),
		"Content-Type", "application/json", "User-Agent", "laptop/2.0"))
	second := e.MustLogin(secondEmail, secondPass)

	list := func(bearer string) []map[string]any {
		t.Helper()
		r := e.request(http.MethodGet, "/api/sessions/", nil, "Authorization", "Bearer "+bearer)
		wantStatus(t, r, http.StatusOK)
		var out []map[string]any
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("sessions body %s: %v", r.Body, err)
		}
		return out
	}
	got := list(laptop.Access)
	if len(got) != 2 || got[0]["user_agent"] != "laptop/2.0" || got[0]["current"] != true ||
		got[1]["user_agent"] != "phone/1.0" || got[1]["current"] != false || got[1]["ip"] != "127.0.0.1" {
		t.Fatalf("sessions = %v, want laptop (current) then phone, newest first", got)
	}
	phoneID := got[1]["id"].(string)
	if phoneID != strClaim(t, tokenClaims(t, phone.Access), "sid") {
		t.Fatalf("session id %s is not the phone tokens' sid", phoneID)
	}
	del := func(bearer, id string) resp {
		return e.request(http.MethodDelete, "/api/sessions/"+id+"/", nil, "Authorization", "Bearer "+bearer)
	}
	// Another user cannot end it, nor learn that it exists.
	want(t, del(second.Access, phoneID), http.StatusNotFound, `{"detail":"Not found."}`)
	want(t, del(laptop.Access, "nonexistent"), http.StatusNotFound, `{"detail":"Not found."}`)
	want(t, e.request(http.MethodGet, "/api/sessions/"+phoneID+"/", nil, "Authorization", "Bearer "+laptop.Access),
		http.StatusMethodNotAllowed, `{"detail":"Method \"GET\" not allowed."}`)
	if r := del("", phoneID); r.Status != http.StatusUnauthorized {
		t.Fatalf("DELETE without credentials: %s", r)
	}
	e.wantMe(phone.Access, userEmail)

	if r := del(laptop.Access, phoneID); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("DELETE the phone's session: %s, want 204 and no body", r)
	}
	e.wantRevokedAccess(phone.Access)
	want(t, e.refresh(phone.Refresh), http.StatusUnauthorized, tokenBody(msgBlacklisted))
	e.wantMe(laptop.Access, userEmail)
	if got := list(laptop.Access); len(got) != 1 || got[0]["user_agent"] != "laptop/2.0" {
		t.Fatalf("sessions after ending the phone's = %v, want the laptop's only", got)
	}
	want(t, del(laptop.Access, phoneID), http.StatusNotFound, `{"detail":"Not found."}`)
}

// GET /api/audit/: the caller's revocations, newest first, with the
// address and user agent of the request that made each.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	ua := func(agent string) []string { return []string{"User-Agent", agent} }
	login := func(agent string) pair {
		return decodePair(t, e.request(http.MethodPost, "/api/token/", strings.NewReader(`{"email":"`+userEmail+`","password":"`+userPass+`"}`),
			append([]string{"Content-Type", "application/json"}, ua(agent)...)...))
	}
	p1, p2, p3 := login("phone/1"), login("laptop/2"), login("tablet/3")
	// Logout from the phone, end the tablet's session from the laptop, then
	// log out everywhere from the laptop.
	r := e.request(http.MethodPost, "/api/logout/", strings.NewReader(`{"refresh":"`+p1.Refresh+`"}`),
		"Content-Type", "application/json", "Authorization", "Bearer "+p1.Access, "User-Agent", "phone/1")
	wantStatus(t, r, http.StatusResetContent)
	sid3 := strClaim(t, tokenClaims(t, p3.Access), "sid")
	if r := e.request(http.MethodDelete, "/api/sessions/"+sid3+"/", nil, "Authorization", "Bearer "+p2.Access, "User-Agent", "laptop/2"); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE the tablet's session: %s", r)
	}
	wantStatus(t, e.request(http.MethodPost, "/api/logout/all/", nil, "Authorization", "Bearer "+p2.Access, "User-Agent", "laptop/2"), http.StatusResetContent)
	fresh := login("laptop/2")
	second := e.MustLogin(secondEmail, secondPass)

	audit := func(bearer, query string) []map[string]any {
		t.Helper()
		r := e.request(http.MethodGet, "/api/audit/"+query, nil, "Authorization", "Bearer "+bearer)
		wantStatus(t, r, http.StatusOK)
		var out []map[string]any
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("audit body %s: %v", r.Body, err)
		}
		return out
	}
	got := audit(fresh.Access, "")
	expect := []struct{ reason, sid, ua string }{
		{"logout_all", "", "laptop/2"},
		{"session_ended", sid3, "laptop/2"},
		{"logout", strClaim(t, tokenClaims(t, p1.Access), "sid"), "phone/1"},
	}
	if len(got) != len(expect) {
		t.Fatalf("audit = %v, want %d entries", got, len(expect))
	}
	for i, w := range expect {
		g := got[i]
		if g["reason"] != w.reason || g["session_id"] != w.sid || g["user_agent"] != w.ua || g["ip"] != "127.0.0.1" || g["at"] == "" {
			t.Fatalf("audit[%d] = %v, want reason %s, session %q, user agent %s, ip 127.0.0.1", i, g, w.reason, w.sid, w.ua)
		}
	}
	if got := audit(fresh.Access, "?limit=1"); len(got) != 1 || got[0]["reason"] != "logout_all" {
		t.Fatalf("audit?limit=1 = %v", got)
	}
	want(t, e.request(http.MethodGet, "/api/audit/?limit=x", nil, "Authorization", "Bearer "+fresh.Access), http.StatusBadRequest,
		`{"limit":["A valid integer is required."]}`)
	if got := audit(second.Access, ""); len(got) != 0 {
		t.Fatalf("another user's audit = %v, want none", got)
	}
	if r := e.request(http.MethodGet, "/api/audit/", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("audit without credentials: %s", r)
	}
}
