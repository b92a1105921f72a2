"""Admit settings, read from the environment (see README, "Configuration").

Outside demo mode the settings are safe by default: no built-in secret key, debug off,
secure cookies, and an explicit list of allowed hosts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ADMIT_DATA_DIR", "var")).resolve()

DEMO = _env_bool("ADMIT_DEMO", False)
DEBUG = _env_bool("ADMIT_DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("ADMIT_SECRET_KEY", "")
    if key:
        return key
    if DEMO or DEBUG:
        # Demo and development only: a random key kept beside the data, so sessions survive
        # a restart. A production deployment must set ADMIT_SECRET_KEY.
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        return path.read_text().strip()
    raise ImproperlyConfigured(
        "ADMIT_SECRET_KEY is not set. Set it to a long random string "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or run with ADMIT_DEMO=1 for a local demo."
    )


SECRET_KEY = _secret_key()

_default_hosts = "127.0.0.1,localhost,[::1]" if (DEMO or DEBUG) else ""
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ADMIT_ALLOWED_HOSTS", _default_hosts).split(",") if h.strip()
]
if not ALLOWED_HOSTS and not (DEMO or DEBUG):
    raise ImproperlyConfigured("ADMIT_ALLOWED_HOSTS is not set (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("ADMIT_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

SECURE_COOKIES = _env_bool("ADMIT_SECURE_COOKIES", not (DEMO or DEBUG))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600  # one working day
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _env_bool("ADMIT_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "admit.core.admin_apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "admit.core",
    "admit.accounts",
    "admit.catalog",
    "admit.inventory",
    "admit.customers",
    "admit.tickets",
    "admit.sales",
    "admit.access",
    "admit.boxoffice",
    "admit.agency",
    "admit.shop",
    "admit.partners",
    "admit.reports",
    "admit.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "admit.core.text.NulCharacterMiddleware",
    # The cookie middlewares skip /api/ (bearer tokens, no cookies): see core/middleware.py.
    "admit.core.middleware.WebSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "admit.core.middleware.WebCsrfViewMiddleware",
    "admit.core.middleware.WebAuthenticationMiddleware",
    "admit.core.middleware.WebMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "admit.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "admit.urls"

# MariaDB has no partial unique indexes. Where a model has one, the service that writes the
# rows also serializes on a locked parent row (e.g. a guide's rebate statements), so the index is
# a backstop on PostgreSQL and SQLite only.
SILENCED_SYSTEM_CHECKS = ["models.W036"]
WSGI_APPLICATION = "admit.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("ADMIT_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'admit.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # Writers queue for the lock instead of failing with "database is locked":
        # every transaction starts as BEGIN IMMEDIATE and waits up to 20 s for its turn.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;",
    }
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif _db["ENGINE"] == "django.db.backends.mysql":
    import pymysql

    pymysql.install_as_MySQLdb()
    _db["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
        "isolation_level": "read committed",
    }
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis optional, never needed for correctness) ------------------------------------
REDIS_URL = os.environ.get("ADMIT_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["admit.accounts.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Failed logins before an account is locked, and for how long.
ADMIT_LOGIN_MAX_FAILURES = int(os.environ.get("ADMIT_LOGIN_MAX_FAILURES", "5"))
ADMIT_LOGIN_LOCK_MINUTES = int(os.environ.get("ADMIT_LOGIN_LOCK_MINUTES", "15"))
ADMIT_TOKEN_DAYS = int(os.environ.get("ADMIT_TOKEN_DAYS", "30"))

# --- Languages and time ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("ADMIT_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ADMIT_LOG_LEVEL", "INFO")},
}

# --- Sales ----------------------------------------------------------------------------------
ADMIT_HOLD_MINUTES = int(os.environ.get("ADMIT_HOLD_MINUTES", "15"))
ADMIT_SALE_DAYS_AHEAD = int(os.environ.get("ADMIT_SALE_DAYS_AHEAD", "365"))
ADMIT_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("ADMIT_OUTBOX_MAX_ATTEMPTS", "8"))
ADMIT_OUTBOX_BACKOFF_SECONDS = int(os.environ.get("ADMIT_OUTBOX_BACKOFF_SECONDS", "30"))
# With ADMIT_REDIS_URL: the Redis list that wakes `admit worker` (the table stays the queue).
ADMIT_OUTBOX_REDIS_KEY = os.environ.get("ADMIT_OUTBOX_REDIS_KEY", "admit:outbox")
# Webhook URLs that OCTO resellers register themselves may point at private, loopback or
# link-local addresses only where this is on (the demo's and the tests' receivers run locally);
# in production such a URL would let a reseller make the server call inside its own network.
ADMIT_WEBHOOKS_PRIVATE_OK = _env_bool("ADMIT_WEBHOOKS_PRIVATE_OK", DEMO or DEBUG)
ADMIT_SANDBOX_PAY_KEY = os.environ.get("ADMIT_SANDBOX_PAY_KEY", "")

# --- Text messages --------------------------------------------------------------------------
# "sandbox" delivers nothing (messages kept in the back office and the log: demos and tests), or
# the dotted path of a sender class (see core/sms.py).
ADMIT_SMS_SENDER = os.environ.get("ADMIT_SMS_SENDER", "sandbox")

# --- Reports --------------------------------------------------------------------------------
# How often the dashboard (/dashboard/) fetches fresh figures; ?refresh=N overrides it per screen.
ADMIT_DASHBOARD_REFRESH_SECONDS = int(os.environ.get("ADMIT_DASHBOARD_REFRESH_SECONDS", "15"))
