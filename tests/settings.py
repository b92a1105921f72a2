"""Test settings: the real settings, with a test secret and a file-based SQLite test database
(so that threads in concurrency tests share it). ADMIT_DATABASE_URL picks PostgreSQL or MariaDB."""

import os
import tempfile

os.environ.setdefault("ADMIT_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("ADMIT_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("ADMIT_DATA_DIR", os.path.join(tempfile.gettempdir(), "admit-test"))
# Playwright's sync API runs an event loop in the test thread; Django's ORM calls there are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from admit.settings import *  # noqa: F403
from admit.settings import DATA_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
LOGGING = {"version": 1, "disable_existing_loggers": False}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Tests that use Redis for the outbox set REDIS_URL themselves, with a key of their own.
ADMIT_OUTBOX_REDIS_KEY = f"admit-test:{os.getpid()}:outbox"
# The tests' webhook receivers listen on 127.0.0.1 (tests of the refusal turn this off).
ADMIT_WEBHOOKS_PRIVATE_OK = True
