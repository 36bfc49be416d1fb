package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// effective is one setting as jwtrevoke config prints it.
type effective struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"` // default, file, env or flag
	// Masked is set when Value hides a secret (all of it, or a URL's
	// password).
	Masked bool `json:"masked,omitempty"`
}

// effectiveSettings lists every setting of c in the documented order,
// secrets masked.
func effectiveSettings(c *Config) []effective {
	out := make([]effective, 0, len(settings))
	for _, s := range settings {
		v := s.get(c)
		e := effective{Name: s.name, Value: v, Source: c.Source[s.name]}
		switch {
		case s.secret && v != "":
			e.Value, e.Masked = masked, true
		case s.redact != nil:
			e.Value = s.redact(v)
			e.Masked = e.Value != v
		}
		out = append(out, e)
	}
	return out
}

func (m *Main) configCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "config [--json]",
		Short: "Print the effective settings and where each one comes from",
		Long: `Print every setting as the other commands would use it, with its source:
default, file (--config or JWTREVOKE_CONFIG), env (JWTREVOKE_<NAME>) or flag.
Secrets are masked: SIGNING_KEY, and the passwords of DATABASE and
TOKEN_STORE URLs. --json prints a list of {"name", "value", "source",
"masked"} objects instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := m.config(cmd)
			if err != nil {
				return err
			}
			list := effectiveSettings(c)
			if asJSON {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVALUE\tSOURCE")
			for _, e := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, quoteIfNeeded(e.Value), e.Source)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// quoteIfNeeded quotes values that would not read as one column: empty
// ones, and ones with spaces or quotes.
func quoteIfNeeded(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"'\n") {
		return strconv.Quote(v)
	}
	return v
}
