// Package interop proves that jwtrevoke and a Django + SimpleJWT project can
// run side by side on one PostgreSQL database with one signing key: the
// Django project under django/ is the seed tutorial's, run with Debian's
// python3-djangorestframework-simplejwt. It has no code of its own.
package interop
