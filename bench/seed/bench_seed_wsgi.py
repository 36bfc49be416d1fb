"""WSGI entry point of the seed for the benchmark: the interop Django project
(interop/django, gunicorn's --chdir) with the bench's settings module
(bench_seed_settings: the interop settings on the database BENCH_SEED_DB
names)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_seed_settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
