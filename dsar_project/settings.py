"""DSAR Core settings: one file, every value from the environment.

Embedded default: SQLite in the project folder and no broker (``manage.py serve`` runs the background
work beside the web app). Production: ``DATABASE_URL=postgres://...`` and ``CELERY_BROKER_URL=redis://...``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    # `<NAME>_FILE` lets container secrets be mounted as files.
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: str = "0") -> bool:
    value = env(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: str) -> int:
    value = env(name, default)
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def _postgres_options(options: dict[str, str]) -> dict:
    """psycopg's connection options: server-side binding, and statements prepared where the code asks.

    Django turns psycopg's statement preparation off (`prepare_threshold=None`) so that transaction-mode
    poolers work. Here it is on, but psycopg never prepares a statement by itself (its threshold is out
    of reach): the hot statements whose plan does not depend on their values ask for it (core.prepared).
    Behind a transaction-mode pooler put `?server_side_binding=0` in DATABASE_URL (which also turns
    preparation off); `?prepare_threshold=off` keeps server-side binding without preparing.
    """
    server_side = options.get("server_side_binding", "1").lower() in ("1", "true")
    prepare = options.get("prepare_threshold", "asked" if server_side else "off").strip().lower()
    return {
        **options,
        "server_side_binding": server_side,
        "prepare_threshold": None if prepare in ("off", "none", "") else ONLY_WHEN_ASKED,
    }


# psycopg prepares a statement at its N-th run on a connection, or at once when the caller asks: an N no
# connection reaches leaves only the asking.
ONLY_WHEN_ASKED = 2**31 - 1


def database_from_url(url: str) -> dict:
    """Parse ``sqlite:///path`` or ``postgres://user:pass@host:port/name?opt=v`` into a DATABASES entry."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        name = unquote(parts.path[1:] if parts.path.startswith("//") else parts.path.lstrip("/") or "")
        if parts.path.startswith("//"):
            name = "/" + name.lstrip("/")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name or str(BASE_DIR / "db.sqlite3"),
            # IMMEDIATE takes the write lock at BEGIN, so two concurrent transitions serialise instead of one
            # failing mid-transaction with "database is locked"; WAL lets readers run beside the writer.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": envint("DSAR_SQLITE_BUSY_TIMEOUT", "10"),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not the shared-cache in-memory default: tests with real threads and worker processes
            # need SQLite's real locking (busy timeout), which shared-cache memory databases bypass.
            "TEST": {"NAME": options.get("test_name") or f"{name or BASE_DIR / 'db.sqlite3'}.test"},
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            # Django's backend with timestamps read by psycopg's C loader (core/db/postgresql/base.py).
            "ENGINE": "core.db.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": envint("DSAR_CONN_MAX_AGE", "60"),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": _postgres_options(options),
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported (sqlite, postgres)")


DEBUG = envbool("DEBUG", "0")
# The fallback is for the embedded demo only; `check --deploy` flags it (security.W009) in production.
SECRET_KEY = env("SECRET_KEY") or "django-insecure-dsar-core-embedded-demo-key-change-me-in-production"
ALLOWED_HOSTS = [
    h.strip() for h in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

INSTALLED_APPS = [
    # The admin without autodiscovery at start-up: dsar_project/urls.py discovers the admin modules when
    # the URLs load, so background workers and commands never import them (about 5 MB each).
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "requests_app",
    "authority",
    "notifications",
    "exports",
    "correspondence",
    "verification",
]

MIDDLEWARE = [
    "core.middleware.ChunkedBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "dsar_project.urls"
WSGI_APPLICATION = "dsar_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's four validators: not like the user's name or e-mail, at least 12 characters, not a common
# password, not all digits. Officers' accounts open every subject's personal data.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": envint("DSAR_PASSWORD_MIN_LENGTH", "12")},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
# The languages of the pages data subjects see (verification, delivery); messages have their own
# templates per locale (correspondence/). Translations live in locale/ (compiled .mo files committed).
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DSAR_SERVE_STATIC = envbool("DSAR_SERVE_STATIC", "1")

# Bodies over the limit answer 413 in the contract envelope (core.middleware).
DSAR_MAX_BODY_BYTES = envint("DSAR_MAX_BODY_BYTES", str(1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = DSAR_MAX_BODY_BYTES
DSAR_API_RATE = env("DSAR_API_RATE", "1200/min")
# Failed admin sign-ins allowed per user name in the window; per client address, five times as many.
DSAR_LOGIN_RATE = env("DSAR_LOGIN_RATE", "10/15min")
DSAR_DEFAULT_AT_RISK_DAYS = envint("DSAR_DEFAULT_AT_RISK_DAYS", "7")
DSAR_IDEMPOTENCY_TTL_HOURS = envint("DSAR_IDEMPOTENCY_TTL_HOURS", "24")
DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS = envbool("DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "0")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.auth.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.ServeJsonNegotiation",
    # `?format=` is not a parameter of this API: an unknown query parameter is a 400 like any other.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_CLASSES": ["core.auth.ApiKeyRateThrottle"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_FILTER_BACKENDS": [],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DSAR Core API",
    "DESCRIPTION": "Data subject request case management with an exact, explained legal clock.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.id_links_hook",
    ],
    # One source for each enumeration: the TextChoices classes themselves.
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "requests_app.models.Status",
        "AuthorityStatusEnum": "authority.models.AuthorityStatus",
        "VerificationStatusEnum": "requests_app.models.VerificationStatus",
        "EndpointStatusEnum": "notifications.models.EndpointStatus",
        "DeliveryStatusEnum": "notifications.models.ApiDeliveryStatus",
        "ClosureOutcomeEnum": "requests_app.models.ClosureOutcome",
        "AppealOutcomeEnum": "requests_app.models.AppealOutcome",
        "OutcomeKindEnum": "requests_app.models.OutcomeKind",
        "ChannelEnum": "requests_app.models.Channel",
        "RequestTypeEnum": "requests_app.models.RequestType",
        "ClockStateEnum": "requests_app.models.ClockState",
        "DeadlineKindEnum": "requests_app.models.DeadlineKind",
        "ChallengeMethodEnum": "verification.models.Method",
        "ChallengeStatusEnum": "verification.models.ChallengeStatus",
        "ManualVerificationMethodEnum": "requests_app.models.ManualVerificationMethod",
    },
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Long schedules live in the database; no task waits long in the broker, so one hour is ample.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Keep reconnecting through a long broker outage instead of exiting after Celery's default 100 tries.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# Webhook delivery (notifications/conf.py documents each).
DSAR_WEBHOOK_CONNECT_TIMEOUT = float(env("DSAR_WEBHOOK_CONNECT_TIMEOUT", "5"))
DSAR_WEBHOOK_READ_TIMEOUT = float(env("DSAR_WEBHOOK_READ_TIMEOUT", "10"))
# Unset: connect + read timeouts + 30 s (longer than any one attempt can take).
DSAR_WEBHOOK_LEASE_SECONDS = envint("DSAR_WEBHOOK_LEASE_SECONDS", "0") or None
DSAR_WEBHOOK_WORKER_THREADS = envint("DSAR_WEBHOOK_WORKER_THREADS", "32")
DSAR_WEBHOOK_MAX_IN_FLIGHT = envint("DSAR_WEBHOOK_MAX_IN_FLIGHT", "2")
DSAR_WEBHOOK_ORG_MAX_IN_FLIGHT = envint("DSAR_WEBHOOK_ORG_MAX_IN_FLIGHT", "8")
DSAR_WEBHOOK_BREAKER_THRESHOLD = envint("DSAR_WEBHOOK_BREAKER_THRESHOLD", "5")
DSAR_WEBHOOK_BREAKER_BACKOFF = envint("DSAR_WEBHOOK_BREAKER_BACKOFF", "60")
DSAR_WEBHOOK_BREAKER_BACKOFF_MAX = envint("DSAR_WEBHOOK_BREAKER_BACKOFF_MAX", "3600")
DSAR_WEBHOOK_MAX_ENDPOINTS = envint("DSAR_WEBHOOK_MAX_ENDPOINTS", "20")
DSAR_WEBHOOK_REPLAYS_PER_HOUR = envint("DSAR_WEBHOOK_REPLAYS_PER_HOUR", "10")
DSAR_WEBHOOK_ROTATION_OVERLAP_HOURS = envint("DSAR_WEBHOOK_ROTATION_OVERLAP_HOURS", "24")
# Export jobs (docs/operations.md, "Every setting", documents each).
DSAR_EXPORT_ACTIVE_LIMIT = envint("DSAR_EXPORT_ACTIVE_LIMIT", "3")
DSAR_EXPORT_INLINE_ROWS = envint("DSAR_EXPORT_INLINE_ROWS", "100000")
DSAR_EXPORT_TTL_SECONDS = envint("DSAR_EXPORT_TTL_SECONDS", str(7 * 24 * 3600))
DSAR_EXPORT_STALE_SECONDS = envint("DSAR_EXPORT_STALE_SECONDS", "120")
DSAR_EXPORT_QUEUE_TIMEOUT_SECONDS = envint("DSAR_EXPORT_QUEUE_TIMEOUT_SECONDS", "3600")
DSAR_EXPORT_HEARTBEAT_SECONDS = float(env("DSAR_EXPORT_HEARTBEAT_SECONDS", "2"))
DSAR_EXPORT_STATEMENT_TIMEOUT = float(env("DSAR_EXPORT_STATEMENT_TIMEOUT", "30"))
DSAR_EXPORT_WORKERS = envint("DSAR_EXPORT_WORKERS", "1")
DSAR_EXPORT_DIR = env("DSAR_EXPORT_DIR", str(BASE_DIR / "var" / "exports"))
DSAR_EXPORT_WORK_DIR = env("DSAR_EXPORT_WORK_DIR", str(BASE_DIR / "var" / "export-work"))
DSAR_EXPORT_FILE_ROOTS = [r for r in env("DSAR_EXPORT_FILE_ROOTS").split(os.pathsep) if r.strip()]
DSAR_PUBLIC_BASE_URL = env("DSAR_PUBLIC_BASE_URL").rstrip("/")

# Mail to data subjects (correspondence/): Django's e-mail framework. `console` prints each message (the
# embedded default), `file` writes each one to DSAR_EMAIL_FILE_PATH, `smtp` uses Django's EMAIL_HOST,
# EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL and EMAIL_TIMEOUT.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
DSAR_EMAIL_BACKEND = env("DSAR_EMAIL_BACKEND", "console")
EMAIL_BACKEND = _EMAIL_BACKENDS.get(DSAR_EMAIL_BACKEND, DSAR_EMAIL_BACKEND)
EMAIL_FILE_PATH = env("DSAR_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "0")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "0")
EMAIL_TIMEOUT = float(env("EMAIL_TIMEOUT", "20"))
DSAR_EMAIL_FROM = env("DSAR_EMAIL_FROM", "DSAR Core <privacy@localhost>")
DEFAULT_FROM_EMAIL = DSAR_EMAIL_FROM
# The right-hand side of each message's stable Message-ID (<msg_…@domain>).
DSAR_EMAIL_MESSAGE_ID_DOMAIN = env("DSAR_EMAIL_MESSAGE_ID_DOMAIN", "dsar.invalid")
DSAR_EMAIL_MAX_ATTEMPTS = envint("DSAR_EMAIL_MAX_ATTEMPTS", "8")
# Links in messages to subjects (verification, delivery) start with this; unset: DSAR_PUBLIC_BASE_URL,
# else http://127.0.0.1:8000 (the embedded default).
DSAR_SUBJECT_BASE_URL = (
    env("DSAR_SUBJECT_BASE_URL") or DSAR_PUBLIC_BASE_URL or "http://127.0.0.1:8000"
).rstrip("/")
# `email`: downloading a delivered bundle from the subject portal needs a code e-mailed on the first try.
DSAR_DELIVERY_STEP_UP = env("DSAR_DELIVERY_STEP_UP", "none")
# Bundles live in the `exports` storage: the local filesystem (owner-only) unless an S3-compatible bucket
# is configured (django-storages; credentials from the usual AWS_* variables or the instance's role).
DSAR_EXPORT_S3_BUCKET = env("DSAR_EXPORT_S3_BUCKET")
if DSAR_EXPORT_S3_BUCKET:
    _EXPORT_STORAGE: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DSAR_EXPORT_S3_BUCKET,
            "endpoint_url": env("DSAR_EXPORT_S3_ENDPOINT_URL") or None,
            "region_name": env("DSAR_EXPORT_S3_REGION") or None,
            "location": env("DSAR_EXPORT_S3_PREFIX", "exports"),
            "default_acl": None,
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"}
            if envbool("DSAR_EXPORT_S3_SSE", "0")
            else {},
        },
    }
else:
    _EXPORT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": DSAR_EXPORT_DIR,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "exports": _EXPORT_STORAGE,
}
# Export jobs run on their own queue, so a long export never holds up webhook dispatch.
CELERY_TASK_ROUTES = {"dsar.exports.*": {"queue": "exports"}}

from dsar_project.background.schedule import BEAT_SCHEDULE  # noqa: E402 - dispatch tick, sweeps, heartbeat

# The background runner lives at the project level (dsar_project/background), not in an app.
CELERY_IMPORTS = ("dsar_project.background.tasks",)
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
# Beat writes its own heartbeat (for /healthz and the admin) from its scheduler's tick.
CELERY_BEAT_SCHEDULER = "dsar_project.background.beat:HeartbeatScheduler"

# One cache that every web process and host shares — rate limits, sign-in throttling and the background
# heartbeats live there: Redis when REDIS_URL is set, otherwise a table in the database (made by `migrate`).
if env("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "dsar_cache"}}

SILENCED_SYSTEM_CHECKS: list[str] = []

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a TLS-terminating proxy (the production shape), these are on; `check --deploy` runs with them.
# The API is never redirected to https: a plain-http call is refused (400 `tls_required`, core.middleware),
# because its key has already crossed the wire. Browsers (the admin) are redirected; /healthz is neither.
DSAR_BEHIND_TLS = envbool("DSAR_BEHIND_TLS", "0")
if DSAR_BEHIND_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("DSAR_SSL_REDIRECT", "1")
    SECURE_REDIRECT_EXEMPT = [r"^v1/", r"^healthz$"]
    SECURE_HSTS_SECONDS = envint("DSAR_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("DSAR_HSTS_PRELOAD", "0")
    if not SECURE_HSTS_PRELOAD:
        # Preload-listing a self-hosted install's domain is hard to undo: the operator opts in.
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
