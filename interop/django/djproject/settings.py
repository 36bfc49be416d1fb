"""Settings of the seed tutorial's project, read from the environment:
INTEROP_DB_* name the PostgreSQL database (and schema) shared with
jwtrevoke, INTEROP_SIGNING_KEY is the key both sign with."""
import os
from datetime import timedelta

SECRET_KEY = os.environ["INTEROP_SIGNING_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "djproject.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "users",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("INTEROP_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("INTEROP_DB_PORT", "5432"),
        "NAME": os.environ["INTEROP_DB_NAME"],
        "USER": os.environ.get("INTEROP_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("INTEROP_DB_PASSWORD", ""),
        "OPTIONS": {"options": "-c search_path=" + os.environ["INTEROP_DB_SCHEMA"]},
    }
}

# jwtrevoke hashes with argon2id in Django's format; Django checks it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("rest_framework_simplejwt.authentication.JWTAuthentication",),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": False,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_TOKEN_CLASSES": ("rest_framework_simplejwt.tokens.AccessToken",),
}
