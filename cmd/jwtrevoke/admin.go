package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwtrevoke/jwtrevoke"
)

func (m *Main) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the database schema",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.config(cmd)
			if err != nil {
				return err
			}
			st, err := openStores(cmd.Context(), c, true)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(m.Stdout, "database %s is up to date\n", redactURL(c.Database))
			return nil
		},
	}
}

// quietService opens the service for a one-shot command: only errors are
// logged, so the generated-key warning does not clutter the output.
func (m *Main) quietService(cmd *cobra.Command) (*jwtrevoke.Service, func(), error) {
	c, err := m.config(cmd)
	if err != nil {
		return nil, nil, err
	}
	svc, st, err := m.openService(cmd.Context(), c, true, m.quietLogger(c), nil)
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { st.Close() }, nil
}

func (m *Main) createUserCommand() *cobra.Command {
	var (
		email, pass string
		stdin       bool
		staff       bool
	)
	cmd := &cobra.Command{
		Use:   "createuser --email EMAIL (--password-stdin | --password PASSWORD) [--staff]",
		Short: "Create a user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return usageError{errors.New("createuser: --email is required")}
			}
			if stdin == (pass != "") {
				return usageError{errors.New("createuser: give exactly one of --password-stdin or --password")}
			}
			if stdin {
				line, err := bufio.NewReader(m.Stdin).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("createuser: read password from stdin: %w", err)
				}
				pass = strings.TrimRight(line, "\r\n")
			}
			svc, done, err := m.quietService(cmd)
			if err != nil {
				return err
			}
			defer done()
			u, err := svc.CreateUser(cmd.Context(), email, pass, staff)
			if errors.Is(err, jwtrevoke.ErrExists) {
				return fmt.Errorf("createuser: a user with email %s already exists", email)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "created user %d <%s>%s\n", u.ID, u.Email, map[bool]string{true: " (staff)"}[staff])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email (unique, case-insensitive)")
	f.StringVar(&pass, "password", "", "the password (visible in the process list: prefer --password-stdin)")
	f.BoolVar(&stdin, "password-stdin", false, "read the password from the first line of standard input")
	f.BoolVar(&staff, "staff", false, "the user may sign in to the admin page")
	return cmd
}

func (m *Main) blacklistCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "blacklist REFRESH_TOKEN",
		Short: "Blacklist a refresh token and revoke its session",
		Long: `Blacklist a refresh token, as POST /api/token/blacklist/ does: the token and
every access token of its session are refused from now on (a running server
picks the revocation up within REVOCATION_POLL_INTERVAL).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("blacklist: give exactly one refresh token")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := m.quietService(cmd)
			if err != nil {
				return err
			}
			defer done()
			c, err := svc.ParseRefresh(args[0])
			if err != nil {
				return fmt.Errorf("blacklist: %w", err)
			}
			if err := svc.Blacklist(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("blacklist: %w", err)
			}
			fmt.Fprintf(m.Stdout, "blacklisted token %s (user %d, expires %s)\n", c.JTI, c.UserID, c.Expires().Format(time.RFC3339))
			return nil
		},
	}
}

func (m *Main) tokensCommand() *cobra.Command {
	var (
		user        int64
		blacklisted bool
		limit       int
	)
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "List outstanding and blacklisted refresh tokens, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, done, err := m.quietService(cmd)
			if err != nil {
				return err
			}
			defer done()
			q := jwtrevoke.TokenQuery{BlacklistedOnly: blacklisted, Limit: limit}
			if user != 0 {
				q.UserID = &user
			}
			toks, err := svc.Store().OutstandingTokens(cmd.Context(), q)
			if err != nil {
				return fmt.Errorf("tokens: %w", err)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tJTI\tCREATED\tEXPIRES\tBLACKLISTED")
			for _, t := range toks {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, optID(t.UserID), t.JTI,
					optTime(t.CreatedAt), t.ExpiresAt.UTC().Format(time.DateTime), optTime(t.BlacklistedAt))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.Int64Var(&user, "user", 0, "only this user id's tokens")
	f.BoolVar(&blacklisted, "blacklisted", false, "only blacklisted tokens")
	f.IntVar(&limit, "limit", 100, "at most this many rows (0: all)")
	return cmd
}

func optID(id *int64) string {
	if id == nil {
		return "-"
	}
	return fmt.Sprint(*id)
}

func optTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

func (m *Main) auditCommand() *cobra.Command {
	var (
		email string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "audit --email EMAIL",
		Short: "Show a user's audit trail: each revocation with its reason, time, address and user agent, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, u, done, err := m.userService(cmd, "audit", email)
			if err != nil {
				return err
			}
			defer done()
			entries, err := svc.Audit(cmd.Context(), u.ID, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tREASON\tSESSION\tIP\tUSER AGENT")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.CreatedAt.UTC().Format(time.DateTime), e.Reason, e.SessionID, e.IP, e.UserAgent)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email")
	f.IntVar(&limit, "limit", 100, "at most this many rows (0: all)")
	return cmd
}

// setActiveCommand is `deactivate` (active false) or `activate`.
func (m *Main) setActiveCommand(active bool) *cobra.Command {
	name, short := "deactivate", "Deactivate a user and revoke every token issued to them"
	if active {
		name, short = "activate", "Activate a user again (their old tokens stay revoked)"
	}
	var email string
	cmd := &cobra.Command{
		Use:   name + " --email EMAIL",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, u, done, err := m.userService(cmd, name, email)
			if err != nil {
				return err
			}
			defer done()
			if err := svc.SetActive(jwtrevoke.WithClientInfo(cmd.Context(), jwtrevoke.ClientInfo{UserAgent: "jwtrevoke " + name}), u.ID, active); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(m.Stdout, "%sd user %d %s\n", name, u.ID, u.Email)
			return nil
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email")
	return cmd
}

// userService opens the service for a command about the user with this
// email (--email, required).
func (m *Main) userService(cmd *cobra.Command, name, email string) (*jwtrevoke.Service, *jwtrevoke.User, func(), error) {
	if email == "" {
		return nil, nil, nil, usageError{fmt.Errorf("%s: --email is required", name)}
	}
	svc, done, err := m.quietService(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := svc.Store().UserByEmail(cmd.Context(), email)
	if err != nil {
		done()
		return nil, nil, nil, fmt.Errorf("%s: user %s: %w", name, email, err)
	}
	return svc, u, done, nil
}

func (m *Main) issueTokenCommand() *cobra.Command {
	var (
		email string
		count int
	)
	cmd := &cobra.Command{
		Use:   "issuetoken --email EMAIL [--count N]",
		Short: "Log a user in without a password: print a refresh and an access token",
		Long: `Log the user in as POST /api/token/ does, without checking a password or the
login rate limits: a new session is recorded and its tokens printed, one
JSON object {"refresh","access"} per line (--count sessions). For service
accounts, tests and recovery: whoever holds the tokens is that user until
they expire or are revoked (jwtrevoke blacklist, or POST /api/logout/).
Anyone who can run this command can read and write the database anyway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 || count > 1_000_000 {
				return usageError{errors.New("issuetoken: --count must be between 1 and 1000000")}
			}
			svc, u, done, err := m.userService(cmd, "issuetoken", email)
			if errors.Is(err, jwtrevoke.ErrNotFound) {
				return fmt.Errorf("issuetoken: no user with email %s", email)
			}
			if err != nil {
				return err
			}
			defer done()
			w := bufio.NewWriter(m.Stdout)
			defer w.Flush()
			enc := json.NewEncoder(w)
			for range count {
				pair, err := svc.Issue(cmd.Context(), u, jwtrevoke.ClientInfo{UserAgent: "jwtrevoke issuetoken"})
				if errors.Is(err, jwtrevoke.ErrNoActiveAccount) {
					return fmt.Errorf("issuetoken: user %s is not active", email)
				}
				if err != nil {
					return fmt.Errorf("issuetoken: %w", err)
				}
				if err := enc.Encode(map[string]string{"refresh": pair.Refresh, "access": pair.Access}); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email")
	f.IntVar(&count, "count", 1, "how many sessions to open (one pair of tokens each)")
	return cmd
}
