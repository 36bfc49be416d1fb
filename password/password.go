package password

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Errors returned by Check for hashes it cannot use.
var (
	// ErrUnknownHasher means the hash names an algorithm this package
	// does not check.
	ErrUnknownHasher = errors.New("unknown password hasher")
	// ErrMalformed means the hash is not well formed, or its parameters
	// are outside what a sane hash uses (which would let a hostile row
	// make every login attempt arbitrarily expensive).
	ErrMalformed = errors.New("malformed password hash")
)

// Limits on parameters read from stored hashes.
const (
	maxArgonMemory = 1 << 20 // KiB: 1 GiB
	maxArgonTime   = 100
	maxPBKDF2Iter  = 10_000_000
	saltBytes      = 16
	keyBytes       = 32
)

// Hasher hashes new passwords with argon2id and checks Django-format hashes.
type Hasher struct {
	Memory  uint32 // argon2id memory in KiB
	Time    uint32 // argon2id iterations
	Threads uint8  // argon2id parallelism
}

// Default returns the parameters the server uses: OWASP's argon2id
// recommendation of 19 MiB of memory, 2 iterations, parallelism 1.
func Default() *Hasher { return &Hasher{Memory: 19 * 1024, Time: 2, Threads: 1} }

// Validate refuses parameters weaker than OWASP's argon2id minimums (its
// equivalent configurations run from m=47104 KiB, t=1 to m=7168 KiB, t=5):
// at least 7 MiB of memory and memory × iterations of at least 7168 × 5.
func (h *Hasher) Validate() error {
	if h.Threads == 0 || h.Time == 0 {
		return fmt.Errorf("password: argon2id iterations and parallelism must be positive (t=%d p=%d)", h.Time, h.Threads)
	}
	if h.Memory < 7168 || uint64(h.Memory)*uint64(h.Time) < 7168*5 {
		return fmt.Errorf("password: argon2id m=%d KiB, t=%d is weaker than OWASP's minimum (m=19456 t=2, m=12288 t=3, m=9216 t=4 or m=7168 t=5)", h.Memory, h.Time)
	}
	if h.Memory > maxArgonMemory || h.Time > maxArgonTime {
		return fmt.Errorf("password: argon2id m=%d KiB, t=%d is beyond the %d KiB, %d iterations this server accepts", h.Memory, h.Time, maxArgonMemory, maxArgonTime)
	}
	return nil
}

// Hash returns password's hash in Django's Argon2PasswordHasher format,
// "argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" with a 16-byte
// random salt and a 32-byte hash, both unpadded standard base64 (as
// argon2-cffi writes them), so Django can check it too.
func (h *Hasher) Hash(password string) (string, error) {
	if h.Memory == 0 || h.Time == 0 || h.Threads == 0 {
		return "", fmt.Errorf("password: argon2id parameters must be positive (m=%d t=%d p=%d)", h.Memory, h.Time, h.Threads)
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, keyBytes)
	return fmt.Sprintf("argon2$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Check reports whether password matches encoded. needsRehash is true
// when encoded uses another algorithm or other parameters than h, so the
// caller can store a fresh hash after a successful login. An unusable
// password (Django writes "!" and random characters; also "") never
// matches and is not an error. Unknown or malformed hashes give errors
// wrapping ErrUnknownHasher or ErrMalformed.
func (h *Hasher) Check(password, encoded string) (ok, needsRehash bool, err error) {
	if encoded == "" || strings.HasPrefix(encoded, "!") {
		return false, false, nil
	}
	algo, rest, found := strings.Cut(encoded, "$")
	if !found {
		return false, false, fmt.Errorf("%w: no algorithm prefix", ErrMalformed)
	}
	switch algo {
	case "argon2":
		return h.checkArgon2(password, rest)
	case "pbkdf2_sha256":
		ok, err := checkPBKDF2(password, rest, sha256.New, sha256.Size)
		return ok, true, err
	case "pbkdf2_sha1":
		ok, err := checkPBKDF2(password, rest, sha1.New, sha1.Size)
		return ok, true, err
	case "bcrypt_sha256":
		sum := sha256.Sum256([]byte(password))
		ok, err := checkBcrypt(hex.EncodeToString(sum[:]), rest)
		return ok, true, err
	case "bcrypt":
		ok, err := checkBcrypt(password, rest)
		return ok, true, err
	}
	return false, false, fmt.Errorf("%w: %q", ErrUnknownHasher, algo)
}

// checkArgon2 checks "argon2id$v=19$m=..,t=..,p=..$salt$hash" (the part
// after Django's "argon2$" prefix).
func (h *Hasher) checkArgon2(password, rest string) (bool, bool, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 5 {
		return false, false, fmt.Errorf("%w: argon2 hash has %d fields, want 5", ErrMalformed, len(parts))
	}
	if parts[0] != "argon2id" {
		return false, false, fmt.Errorf("%w: argon2 variant %q", ErrUnknownHasher, parts[0])
	}
	if parts[1] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, false, fmt.Errorf("%w: argon2 version %q", ErrMalformed, parts[1])
	}
	var m, t uint32
	var p uint8
	if n, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 {
		return false, false, fmt.Errorf("%w: argon2 parameters %q", ErrMalformed, parts[2])
	}
	if m == 0 || m > maxArgonMemory || t == 0 || t > maxArgonTime || p == 0 {
		return false, false, fmt.Errorf("%w: argon2 parameters out of range (%s)", ErrMalformed, parts[2])
	}
	salt, err1 := decodeB64(parts[3])
	want, err2 := decodeB64(parts[4])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 1024 {
		return false, false, fmt.Errorf("%w: argon2 salt or hash", ErrMalformed)
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	ok := subtle.ConstantTimeCompare(got, want) == 1
	rehash := m != h.Memory || t != h.Time || p != h.Threads || len(want) != keyBytes
	return ok, rehash, nil
}

// decodeB64 accepts standard base64 with or without padding.
func decodeB64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// checkPBKDF2 checks Django's "<iterations>$<salt>$<base64 hash>".
func checkPBKDF2(password, rest string, h func() hash.Hash, size int) (bool, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return false, fmt.Errorf("%w: pbkdf2 hash has %d fields, want 3", ErrMalformed, len(parts))
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < 1 || iter > maxPBKDF2Iter {
		return false, fmt.Errorf("%w: pbkdf2 iterations %q", ErrMalformed, parts[0])
	}
	want, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(want) != size {
		return false, fmt.Errorf("%w: pbkdf2 hash", ErrMalformed)
	}
	got, err := pbkdf2.Key(h, password, []byte(parts[1]), iter, size)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// checkBcrypt checks Django's "$2b$<cost>$..." (the part after its prefix,
// which leaves an empty field: "bcrypt$$2b$...").
func checkBcrypt(password, rest string) (bool, error) {
	if !strings.HasPrefix(rest, "$2") {
		return false, fmt.Errorf("%w: bcrypt hash", ErrMalformed)
	}
	err := bcrypt.CompareHashAndPassword([]byte(rest), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: %w", ErrMalformed, err)
}
