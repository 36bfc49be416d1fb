package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/jwtrevoke/jwtrevoke"
)

func (m *Main) genkeyCommand() *cobra.Command {
	var alg, out string
	cmd := &cobra.Command{
		Use:   "genkey --alg ALG --out DIR",
		Short: "Generate a key pair: DIR/private.pem and DIR/public.pem",
		Long: `Generate a private key for ALG (RS*, PS*: RSA 3072; ES256/384/512: P-256/384/521;
EdDSA: Ed25519) as DIR/private.pem (PKCS#8, mode 0600) and its public key as
DIR/public.pem. Use them with SIGNING_KEY_FILE=DIR/private.pem and, on the
services that only verify, the public key or /.well-known/jwks.json.
Existing files are not overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("genkey: --out is required")}
			}
			priv, pub, err := jwtrevoke.GenerateKey(alg)
			if err != nil {
				return usageError{fmt.Errorf("genkey: %w", err)}
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return fmt.Errorf("genkey: %w", err)
			}
			for _, f := range []struct {
				name, body string
				mode       os.FileMode
			}{{"private.pem", priv, 0o600}, {"public.pem", pub, 0o644}} {
				path := filepath.Join(out, f.name)
				fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
				if err != nil {
					return fmt.Errorf("genkey: %w", err)
				}
				if _, err := fh.WriteString(f.body); err != nil {
					fh.Close()
					return fmt.Errorf("genkey: %w", err)
				}
				if err := fh.Close(); err != nil {
					return fmt.Errorf("genkey: %w", err)
				}
			}
			k, err := jwtrevoke.ParseKey(alg, priv)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "wrote %s and %s (%s, kid %s)\n", filepath.Join(out, "private.pem"), filepath.Join(out, "public.pem"), alg, k.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&alg, "alg", "ES256", "algorithm the key is for")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the keys to")
	return cmd
}
