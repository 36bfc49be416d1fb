#!/usr/bin/env bash
# The benchmark suite: installs wrk and gunicorn from Debian when missing,
# then runs `go run ./bench "$@"` from the module's directory.
#   bash bench/run.sh -scenario me,refresh,login,memory -store sqlite,postgres,redis -seed -seed-db sqlite,postgres,postgres-persist -duration 10s
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
/usr/bin/python3 -c 'import gunicorn' >/dev/null 2>&1 || missing+=(python3-gunicorn)
# the seed (-seed): Django + DRF + SimpleJWT, argon2 and psycopg2 as the interop test uses them
/usr/bin/python3 -c 'import rest_framework_simplejwt' >/dev/null 2>&1 || missing+=(python3-djangorestframework-simplejwt)
/usr/bin/python3 -c 'import argon2' >/dev/null 2>&1 || missing+=(python3-argon2)
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing+=(python3-psycopg2)
if ((${#missing[@]})); then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		echo "bench/run.sh: installing ${missing[*]} from Debian" >&2
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	else
		echo "bench/run.sh: ${missing[*]} missing and apt-get unavailable (not root?): the built-in Go load generator is used; -seed needs gunicorn and Django" >&2
	fi
fi

export JWTREVOKE_BENCH_VIA_RUNSH=1
exec go run ./bench "$@"
