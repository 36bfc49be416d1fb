package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
)

// tokenRow is one outstanding token in a list.
type tokenRow struct {
	ID           int64
	JTI          string
	UserID       int64
	HasUser      bool
	Email        string // "" when the user no longer exists
	Created      *time.Time
	Expires      time.Time
	Blacklisted  *time.Time
	Status       string // live, expired, blacklisted
	StaffSession bool   // the row of an admin sign-in, not a JWT
	CanBlacklist bool
}

// column is a sortable column header.
type column struct {
	Key    string // the sort it stands for
	Label  string
	URL    string // the list sorted by this column (the other way when it is the current one)
	Active bool
	Asc    bool
}

// option is a choice of the status filter.
type option struct {
	Value, Label string
	Selected     bool
}

// listData is a token list's.
type listData struct {
	Blacklisted bool // the blacklisted list, not the outstanding one
	Q           string
	Status      string
	Sort        string
	Dir         string
	Statuses    []option
	Columns     []column
	Rows        []tokenRow
	Notice      string
	Page        int
	PrevURL     string
	NextURL     string
	Here        string // this page, where the row actions come back to
}

// listQuery is a token list's request.
type listQuery struct {
	q, status, sort string
	asc             bool
	page            int
}

func (lq listQuery) url(base string) string {
	v := url.Values{}
	if lq.q != "" {
		v.Set("q", lq.q)
	}
	if lq.status != "" {
		v.Set("status", lq.status)
	}
	v.Set("sort", lq.sort)
	if lq.asc {
		v.Set("dir", "asc")
	} else {
		v.Set("dir", "desc")
	}
	if lq.page > 1 {
		v.Set("page", strconv.Itoa(lq.page))
	}
	return base + "?" + v.Encode()
}

// parseListQuery reads the list's query string; unknown values fall back
// to the defaults.
func parseListQuery(r *http.Request, blacklisted bool) listQuery {
	v := r.URL.Query()
	lq := listQuery{q: strings.TrimSpace(v.Get("q")), sort: v.Get("sort"), asc: v.Get("dir") == "asc"}
	switch jwtrevoke.TokenSort(lq.sort) {
	case jwtrevoke.SortCreated, jwtrevoke.SortExpires, jwtrevoke.SortBlacklisted:
	default:
		lq.sort = string(jwtrevoke.SortCreated)
		if blacklisted {
			lq.sort = string(jwtrevoke.SortBlacklisted)
		}
		lq.asc = false
	}
	if !blacklisted {
		switch jwtrevoke.TokenStatus(v.Get("status")) {
		case jwtrevoke.TokenLive, jwtrevoke.TokenExpired, jwtrevoke.TokenBlacklisted:
			lq.status = v.Get("status")
		}
	}
	lq.page, _ = strconv.Atoi(v.Get("page"))
	lq.page = max(lq.page, 1)
	return lq
}

// tokenList serves SimpleJWT's two admin lists: every outstanding token
// (filtered by status), or the blacklisted ones.
func (h *handler) tokenList(blacklisted bool) staffHandler {
	base, title, nav := Prefix+"tokens/", "Outstanding tokens", "tokens"
	if blacklisted {
		base, title, nav = Prefix+"blacklisted/", "Blacklisted tokens", "blacklisted"
	}
	return func(w http.ResponseWriter, r *http.Request, s *staffRequest) {
		ctx := r.Context()
		lq := parseListQuery(r, blacklisted)
		now := h.svc.Now()
		d := listData{Blacklisted: blacklisted, Q: lq.q, Status: lq.status, Sort: lq.sort, Page: lq.page, Here: lq.url(base)}
		d.Dir = "desc"
		if lq.asc {
			d.Dir = "asc"
		}
		for _, o := range []option{{"", "All", false}, {"live", "Live", false}, {"expired", "Expired", false}, {"blacklisted", "Blacklisted", false}} {
			o.Selected = o.Value == lq.status
			d.Statuses = append(d.Statuses, o)
		}
		for _, c := range []struct{ sort, label string }{{"created", "Created"}, {"expires", "Expires"}, {"blacklisted", "Blacklisted at"}} {
			col := column{Key: c.sort, Label: c.label, Active: c.sort == lq.sort, Asc: lq.asc}
			next := listQuery{q: lq.q, status: lq.status, sort: c.sort, asc: col.Active && !lq.asc}
			col.URL = next.url(base)
			d.Columns = append(d.Columns, col)
		}

		q := jwtrevoke.TokenQuery{
			Now: now, Sort: jwtrevoke.TokenSort(lq.sort), Ascending: lq.asc,
			Limit: h.opts.PageSize + 1, Offset: (lq.page - 1) * h.opts.PageSize,
		}
		if blacklisted {
			q.Status = jwtrevoke.TokenBlacklisted
		} else {
			q.Status = jwtrevoke.TokenStatus(lq.status)
		}
		search := true
		switch {
		case lq.q == "":
		case strings.Contains(lq.q, "@"):
			u, err := h.svc.Store().UserByEmail(ctx, lq.q)
			switch {
			case errors.Is(err, jwtrevoke.ErrNotFound):
				d.Notice = "No user has the email " + lq.q + "."
				search = false
			case err != nil:
				h.storeError(w, r, "find a user", err)
				return
			default:
				q.UserID = &u.ID
			}
		default:
			q.JTI = lq.q
		}
		var rows []jwtrevoke.OutstandingToken
		if search {
			var err error
			if rows, err = h.svc.Store().OutstandingTokens(ctx, q); err != nil {
				h.storeError(w, r, "list tokens", err)
				return
			}
		}
		if len(rows) > h.opts.PageSize {
			rows = rows[:h.opts.PageSize]
			next := lq
			next.page++
			d.NextURL = next.url(base)
		}
		if lq.page > 1 {
			prev := lq
			prev.page--
			d.PrevURL = prev.url(base)
		}
		emails := map[int64]string{}
		for _, t := range rows {
			row := tokenRow{ID: t.ID, JTI: t.JTI, Created: t.CreatedAt, Expires: t.ExpiresAt, Blacklisted: t.BlacklistedAt,
				StaffSession: t.Token == jwtrevoke.StaffSessionToken}
			if t.UserID != nil {
				row.UserID, row.HasUser = *t.UserID, true
				email, ok := emails[row.UserID]
				if !ok {
					u, err := h.svc.Store().UserByID(ctx, row.UserID)
					switch {
					case err == nil:
						email = u.Email
					case !errors.Is(err, jwtrevoke.ErrNotFound):
						h.storeError(w, r, "load a user", err)
						return
					}
					emails[row.UserID] = email
				}
				row.Email = email
			}
			switch {
			case t.BlacklistedAt != nil:
				row.Status = "blacklisted"
			case !t.ExpiresAt.After(now):
				row.Status = "expired"
			default:
				row.Status = "live"
				row.CanBlacklist = !row.StaffSession
			}
			d.Rows = append(d.Rows, row)
		}
		if len(d.Rows) == 0 && d.Notice == "" {
			d.Notice = "No tokens match."
		}
		h.page(w, r, s, http.StatusOK, "tokens", title, nav, d)
	}
}

// blacklist blacklists the outstanding token with the form's jti (its
// row's token, through Service.Blacklist: the token and its whole session
// are revoked on every instance).
func (h *handler) blacklist(w http.ResponseWriter, r *http.Request, s *staffRequest) {
	ctx := r.Context()
	jti := strings.TrimSpace(r.PostFormValue("jti"))
	back := localPath(r.PostFormValue("back"), Prefix+"tokens/")
	if jti == "" {
		h.done(w, r, s, back, flashError, "No token was chosen.")
		return
	}
	rows, err := h.svc.Store().OutstandingTokens(ctx, jwtrevoke.TokenQuery{JTI: jti, Limit: 1})
	if err != nil {
		h.storeError(w, r, "find a token", err)
		return
	}
	if len(rows) == 0 || rows[0].JTI != jti {
		h.done(w, r, s, back, flashError, "There is no outstanding token with the jti "+jti+".")
		return
	}
	if rows[0].Token == jwtrevoke.StaffSessionToken {
		h.done(w, r, s, back, flashError, "Token "+jti+" is an admin sign-in: end it from its user's page.")
		return
	}
	err = h.svc.Blacklist(ctx, rows[0].Token)
	switch {
	case err == nil:
		h.log.InfoContext(ctx, "admin: token blacklisted", "staff_id", s.user.ID, "jti", jti)
		h.done(w, r, s, back, flashOK, "Token "+jti+" is blacklisted, and every token of its session is revoked.")
	case errors.Is(err, jwtrevoke.ErrTokenBlacklisted):
		h.done(w, r, s, back, flashError, "Token "+jti+" was already blacklisted or revoked.")
	case errors.Is(err, jwtrevoke.ErrTokenInvalid):
		h.done(w, r, s, back, flashError, "Token "+jti+" has expired or was not signed with this server's keys: there is nothing to blacklist.")
	case isRefusal(err):
		h.done(w, r, s, back, flashError, "Token "+jti+" cannot be blacklisted: "+err.Error()+".")
	default:
		h.storeError(w, r, "blacklist", err)
	}
}
