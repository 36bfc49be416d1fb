"""WSGI entry point of the seed for the benchmark: the interop Django project
(interop/django, gunicorn's --chdir) with its settings module."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djproject.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
