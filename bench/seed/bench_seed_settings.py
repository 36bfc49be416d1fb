"""Settings of the seed for the benchmark: the interop Django project's
(interop/django/djproject/settings.py), with the database BENCH_SEED_DB
names:

- postgres: as the interop settings have it, PostgreSQL with Django's
  default CONN_MAX_AGE=0 (a new connection per request);
- postgres-persist: the same with CONN_MAX_AGE=600 (each worker keeps its
  connection);
- sqlite: Django's default database, SQLite, in the file BENCH_SEED_SQLITE.

The interop settings read INTEROP_DB_NAME and INTEROP_DB_SCHEMA even for
sqlite: the bench sets placeholders."""
import os

from django.core.exceptions import ImproperlyConfigured

from djproject.settings import *  # noqa: F401,F403
from djproject.settings import DATABASES

BENCH_SEED_DB = os.environ.get("BENCH_SEED_DB", "postgres")

if BENCH_SEED_DB == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["BENCH_SEED_SQLITE"],
        }
    }
elif BENCH_SEED_DB == "postgres-persist":
    DATABASES["default"]["CONN_MAX_AGE"] = 600
elif BENCH_SEED_DB != "postgres":
    raise ImproperlyConfigured("BENCH_SEED_DB: want postgres, postgres-persist or sqlite, not %r" % BENCH_SEED_DB)
