package password_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/jwtrevoke/jwtrevoke/password"
)

var cheap = &password.Hasher{Memory: 64, Time: 1, Threads: 1}

// Known-answer vectors made with Python's hashlib on the project machine:
//
//	base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"django-pass", b"seasalt123", 1000, 32))
//	base64.b64encode(hashlib.pbkdf2_hmac("sha1", b"django-pass", b"seasalt123", 1000, 20))
const (
	djangoPBKDF2SHA256 = "pbkdf2_sha256$1000$seasalt123$DBgLsOXD0F2YQAp7dGqYP0uyNo18lcDqs6fZ5sNzAiE="
	djangoPBKDF2SHA1   = "pbkdf2_sha1$1000$seasalt123$je/tq2umjN913soamOKxx6wpfBI="
)

func TestCheckFormats(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("django-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("django-pass"))
	bcs, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(sum[:])), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	own, err := cheap.Hash("django-pass")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		encoded    string
		wantRehash bool
	}{
		{"PBKDF2SHA256", djangoPBKDF2SHA256, true},
		{"PBKDF2SHA1", djangoPBKDF2SHA1, true},
		{"Bcrypt", "bcrypt$" + string(bc), true},
		{"BcryptSHA256", "bcrypt_sha256$" + string(bcs), true},
		{"Argon2idSameParams", own, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, rehash, err := cheap.Check("django-pass", c.encoded)
			if err != nil || !ok || rehash != c.wantRehash {
				t.Fatalf("right password: ok=%v rehash=%v err=%v, want true %v nil", ok, rehash, err, c.wantRehash)
			}
			ok, _, err = cheap.Check("django-pasS", c.encoded)
			if err != nil || ok {
				t.Fatalf("wrong password: ok=%v err=%v, want false nil", ok, err)
			}
		})
	}
}

func TestHashFormatAndRehash(t *testing.T) {
	h := password.Default()
	enc, err := h.Hash("test123456")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "argon2$argon2id$v=19$m=19456,t=2,p=1$") || len(strings.Split(enc, "$")) != 6 {
		t.Fatalf("hash %q is not in Django's argon2 format", enc)
	}
	if ok, rehash, err := h.Check("test123456", enc); !ok || rehash || err != nil {
		t.Fatalf("Check with the same hasher: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, rehash, err := cheap.Check("test123456", enc); !ok || !rehash || err != nil {
		t.Fatalf("Check with other parameters: ok=%v rehash=%v err=%v, want true true nil", ok, rehash, err)
	}
	again, _ := h.Hash("test123456")
	if again == enc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	// Changing one character of the hash breaks it.
	i := strings.LastIndexByte(enc, '$') + 3
	flipped := enc[:i] + string(rune(enc[i]^1)) + enc[i+1:]
	if ok, _, _ := h.Check("test123456", flipped); ok {
		t.Fatal("a tampered hash matched")
	}
}

func TestUnusableAndMalformed(t *testing.T) {
	for _, enc := range []string{"", "!", "!Xk3kdk2ll2dkd0s9a8ak3kdkdjf"} {
		if ok, _, err := cheap.Check("", enc); ok || err != nil {
			t.Errorf("Check(%q): ok=%v err=%v, want false nil", enc, ok, err)
		}
	}
	cases := []struct {
		enc  string
		want error
	}{
		{"md5$abc$def", password.ErrUnknownHasher},
		{"argon2$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", password.ErrUnknownHasher},
		{"plaintext", password.ErrMalformed},
		{"pbkdf2_sha256$1000$salt", password.ErrMalformed},
		{"pbkdf2_sha256$many$salt$DBgLsOXD0F2YQAp7dGqYP0uyNo18lcDqs6fZ5sNzAiE=", password.ErrMalformed},
		{"pbkdf2_sha256$999999999$salt$DBgLsOXD0F2YQAp7dGqYP0uyNo18lcDqs6fZ5sNzAiE=", password.ErrMalformed},
		{"pbkdf2_sha256$1000$salt$not-base64!", password.ErrMalformed},
		{"argon2$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", password.ErrMalformed},
		{"argon2$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", password.ErrMalformed},
		{"argon2$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", password.ErrMalformed},
		{"argon2$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", password.ErrMalformed},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$@@@$aGFzaGhhc2hoYXNoaGFzaA", password.ErrMalformed},
		{"argon2$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", password.ErrMalformed},
		{"bcrypt$$3x$nonsense", password.ErrMalformed},
	}
	for _, c := range cases {
		ok, _, err := cheap.Check("x", c.enc)
		if ok || !errors.Is(err, c.want) {
			t.Errorf("Check(%q): ok=%v err=%v, want error %v", c.enc, ok, err, c.want)
		}
	}
}

func TestHashRefusesZeroParameters(t *testing.T) {
	if _, err := (&password.Hasher{}).Hash("x"); err == nil {
		t.Fatal("Hash with zero parameters succeeded")
	}
}

// TestValidate: OWASP's argon2id minimums, and nothing weaker.
func TestValidate(t *testing.T) {
	for _, ok := range []password.Hasher{{Memory: 19456, Time: 2, Threads: 1}, {Memory: 47104, Time: 1, Threads: 1},
		{Memory: 12288, Time: 3, Threads: 1}, {Memory: 9216, Time: 4, Threads: 1}, {Memory: 7168, Time: 5, Threads: 2}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v, want accepted", ok, err)
		}
	}
	if err := password.Default().Validate(); err != nil {
		t.Errorf("Default(): %v", err)
	}
	for _, weak := range []password.Hasher{{Memory: 19456, Time: 1, Threads: 1}, {Memory: 4096, Time: 10, Threads: 1},
		{Memory: 19456, Time: 2, Threads: 0}, {Memory: 19456, Time: 0, Threads: 1}, {Memory: 2 << 20, Time: 2, Threads: 1}} {
		if err := weak.Validate(); err == nil {
			t.Errorf("%+v accepted, want refused", weak)
		}
	}
}
