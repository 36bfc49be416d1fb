// Command jwtrevoke is the jwtrevoke server and its administration
// commands: serve, migrate, createuser, flushexpiredtokens, blacklist,
// tokens, audit, deactivate, activate, genkey, config and version. It only
// wires packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/jwtrevoke/jwtrevoke"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// Main runs the command line; tests run it in-process with their own
// streams and environment.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Ready, when set, receives the address serve listens on, once the
	// API is served.
	Ready func(addr string)

	// lowerPriority, when set, gives the process a nice value
	// (flushexpiredtokens --nice); tests leave it unset, running the
	// commands in their own process.
	lowerPriority func(nice int) error
	// wrapStore, when set, wraps the store every command opens (tests).
	wrapStore func(jwtrevoke.Store) jwtrevoke.Store
	// terminal, when set, says whether Stderr is a terminal (tests);
	// otherwise it is asked of Stderr's file.
	terminal *bool
}

// usageError marks errors in how a command was called (exit status 2).
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, lowerPriority: lowerPriority}
	err := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// Run runs one command with args (without the program name) and returns
// its error, already reported on Stderr.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var ue usageError
		if !errors.As(err, &ue) && !isCobraUsage(err) {
			fmt.Fprintf(m.Stderr, "jwtrevoke: %v\n", err)
		} else {
			if !errors.As(err, &ue) {
				err = usageError{err}
			}
			fmt.Fprintf(m.Stderr, "jwtrevoke: %v\nRun 'jwtrevoke --help' for usage.\n", err)
		}
	}
	return err
}

// isCobraUsage reports whether cobra refused the arguments themselves.
func isCobraUsage(err error) bool {
	var fe *flagError
	if errors.As(err, &fe) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown shorthand"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

type flagError struct{ error }

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "jwtrevoke",
		Short: "JWT authentication in which logout really works",
		Long: `jwtrevoke serves SimpleJWT-compatible login, refresh, verify, blacklist and
logout endpoints; after logout both the refresh token and every access token of
the session are refused at once.

Settings use SimpleJWT's names. Each can be given, from lowest to highest
precedence, as a default, in the JSON file named by --config, as the
environment variable JWTREVOKE_<NAME>, or as the flag --<name> (lower case,
dashes): e.g. ACCESS_TOKEN_LIFETIME, JWTREVOKE_ACCESS_TOKEN_LIFETIME=15m,
--access-token-lifetime 15m.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	addSettingFlags(root.PersistentFlags())
	root.AddCommand(
		m.serveCommand(),
		m.migrateCommand(),
		m.createUserCommand(),
		m.issueTokenCommand(),
		m.flushCommand(),
		m.blacklistCommand(),
		m.tokensCommand(),
		m.auditCommand(),
		m.setActiveCommand(false),
		m.setActiveCommand(true),
		m.genkeyCommand(),
		m.configCommand(),
		m.versionCommand(),
	)
	return root
}

func (m *Main) config(cmd *cobra.Command) (*Config, error) {
	c, err := loadConfig(cmd.Flags(), m.Getenv)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

func (m *Main) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version
			if v == "" {
				v = "(devel)"
				if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
					v = bi.Main.Version
				}
			}
			fmt.Fprintf(m.Stdout, "jwtrevoke %s\n", v)
			return nil
		},
	}
}
