// Package password hashes user passwords with argon2id and checks the
// hashes Django writes (argon2, pbkdf2_sha256, pbkdf2_sha1, bcrypt_sha256,
// bcrypt), so a Django user table can be imported and shared. Hashes are in
// Django's encoded format. It imports nothing of jwtrevoke's.
package password
