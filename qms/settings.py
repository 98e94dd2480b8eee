"""Settings for every environment, read from the environment (DESIGN.md §5 "Settings from the environment").

One module serves development, tests and production; what differs comes from environment variables, and a
bad value stops the process with ``ImproperlyConfigured`` naming the variable rather than running half-set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("QMS_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()


def _bool(name: str, default: bool) -> bool:
    """Strict booleans: a typo such as DEBUG=ture must not silently mean False."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def _secret_key() -> str:
    """SECRET_KEY from the environment; in development only, generated once and kept under var/."""
    key = env.str("SECRET_KEY", default="")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
        return key
    if not DEBUG and not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY is required when neither DEBUG nor QMS_DEVELOPMENT is set")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _database(url: str) -> dict:
    if not url:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set. Use `make run` / `make test` (they start an embedded PostgreSQL) "
            "or point DATABASE_URL at a PostgreSQL server, e.g. postgres://user:pass@host:5432/qms"
        )
    try:
        config = env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (row-level security depends on it)")
    # A Unix-socket directory arrives percent-encoded in the host part (postgres://user@%2Fpath/db).
    config["HOST"] = unquote(config.get("HOST") or "")
    # Not ATOMIC_REQUESTS: tenants.middleware.TenantContextMiddleware opens the request's transaction itself,
    # so that the row-level-security context is set inside it and templates render inside it too.
    config["ATOMIC_REQUESTS"] = False
    config["CONN_MAX_AGE"] = _int("DATABASE_CONN_MAX_AGE", 60)
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {})["application_name"] = "qms"
    return config


def _redis_url(url: str) -> str:
    if not url:
        raise ImproperlyConfigured(
            "REDIS_URL is not set. Use `make run` / `make test` (they start an embedded Redis) "
            "or point REDIS_URL at a Redis server, e.g. redis://localhost:6379/0"
        )
    if not url.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://, got {url!r}")
    return url


# --- Core -----------------------------------------------------------------------------------------------

DEBUG = _bool("DEBUG", False)
# Development conveniences (generated secret key, console e-mail, localhost hosts) without turning DEBUG on.
DEVELOPMENT = _bool("QMS_DEVELOPMENT", False)
SECRET_KEY = _secret_key()
# Entering the database's system context needs this key (tenants/rls.py): derived from SECRET_KEY, so it lives
# only in the processes' environment, never in the database, and SQL injected as the app role cannot forge it.
QMS_SYSTEM_KEY = hmac.new(SECRET_KEY.encode(), b"qms-rls-system-context", hashlib.sha256).hexdigest()
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if (DEBUG or DEVELOPMENT) else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "guardian",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "drf_spectacular_sidecar",
    "qms",
    "tenants",
    "part11",
    "clocks",
    "agreements",
    "deviations",
    "capa",
    "batches",
    "changes",
    "inspections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tenants.sessions.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "tenants.middleware.TenantContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qms.urls"
WSGI_APPLICATION = "qms.wsgi.application"
ASGI_APPLICATION = "qms.asgi.application"

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
                "tenants.context_processors.acting_membership",
                "clocks.context_processors.notifications",
            ],
        },
    },
]

def _database_owner(url: str, app: dict) -> dict | None:
    if not url:
        return None
    owner = _database(url)
    if (owner["HOST"], owner.get("PORT"), owner["NAME"]) != (app["HOST"], app.get("PORT"), app["NAME"]):
        raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same server and database as DATABASE_URL")
    if owner["USER"] == app["USER"]:
        raise ImproperlyConfigured("DATABASE_OWNER_URL must use a different role than DATABASE_URL")
    return {"USER": owner["USER"], "PASSWORD": owner["PASSWORD"]}


DATABASES = {"default": _database(env.str("DATABASE_URL", default=""))}
# The role that owns the tables and runs migrations (qms/dbroles.py); the app connects as DATABASE_URL's role.
DATABASE_OWNER = _database_owner(env.str("DATABASE_OWNER_URL", default=""), DATABASES["default"])
DATABASE_APP_ROLE = DATABASES["default"]["USER"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _redis_url(env.str("REDIS_URL", default=""))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "qms",
    }
}

# --- Authentication -----------------------------------------------------------------------------------

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out users before any password check
    "tenants.auth.UsernameOrEmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_ENGINE = "tenants.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_IDLE_TIMEOUT = _int("SESSION_IDLE_TIMEOUT", 15 * 60, minimum=60)
SESSION_ABSOLUTE_LIFETIME = _int("SESSION_ABSOLUTE_LIFETIME", 12 * 3600, minimum=300)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Failed-login lockout (django-axes): counted per username and, separately, per client address.
AXES_FAILURE_LIMIT = _int("AXES_FAILURE_LIMIT", 5, minimum=1)
_cooloff_minutes = _int("AXES_COOLOFF_MINUTES", 30, minimum=0)
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes) if _cooloff_minutes else None  # 0: until an admin unlocks
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tenants.auth.lockout_response"
AXES_IPWARE_PROXY_COUNT = _int("AXES_PROXY_COUNT", 0)
AXES_USERNAME_FORM_FIELD = "username"
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Oversight QMS")
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user row; anonymous requests hold no grants.
GUARDIAN_RAISE_403 = False

# --- Security headers (production-strength unless DEBUG) --------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", not (DEBUG or DEVELOPMENT))
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not (DEBUG or DEVELOPMENT))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 0 if (DEBUG or DEVELOPMENT) else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _bool("BEHIND_TLS_PROXY", False) else None
CSRF_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): no inline scripts anywhere; styles only from our stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- I18N / time -------------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or DEVELOPMENT)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Development and tests serve static files straight from the apps (no collectstatic step needed).
WHITENOISE_USE_FINDERS = DEBUG or DEVELOPMENT
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploads (tenants/files.py): refused above this size; Django keeps bodies up to the same size in memory.
UPLOAD_MAX_BYTES = _int("UPLOAD_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
# Business days a sponsor has to decide on a batch when no quality agreement in force says otherwise.
DEFAULT_BATCH_REVIEW_DAYS = _int("DEFAULT_BATCH_REVIEW_DAYS", 10, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- E-mail ------------------------------------------------------------------------------------------------------

_email_url = env.str("EMAIL_URL", default="consolemail://" if (DEBUG or DEVELOPMENT) else "")
if not _email_url:
    raise ImproperlyConfigured("EMAIL_URL is required in production (e.g. smtp+tls://user:pass@host:587)")
try:
    vars().update(env.email_url_config(_email_url))
except Exception as exc:
    raise ImproperlyConfigured(f"EMAIL_URL is not a valid e-mail URL: {exc}") from None
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="qms@localhost")
# A dotted backend path overrides EMAIL_URL's (e.g. a test sink); the outbox sends through whichever is set.
if env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
# Links in e-mails point here (no request exists when the worker sends a notification).
QMS_BASE_URL = env.str("QMS_BASE_URL", default="http://localhost:8000").rstrip("/")

# --- REST API ---------------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.auth.MembershipTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "qms.api.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qms.api.exception_handler",
    # Uploads refuse hostile file names as sent, rather than taking Django's rewritten base name.
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "qms.parsers.NameCheckingMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sponsor-CMO oversight QMS API",
    "DESCRIPTION": "Every page has an API twin. A token acts within exactly one organization.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar wheel: no CDN, works offline and under our CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SignableRecordTypeEnum": "part11.signatures.SIGNABLE_CHOICES",
        "AuditRecordTypeEnum": "part11.models.RECORD_TYPE_CHOICES",
        "UploadRecordTypeEnum": "tenants.api.UPLOAD_RECORD_CHOICES",
        "DeadlineStateEnum": "clocks.models.Deadline.State",
        "DeadlineStageStateEnum": "clocks.models.DeadlineStage.State",
        "AgreementStateEnum": "agreements.models.QualityAgreement.State",
        "ConsentStateEnum": "agreements.models.SubcontractorConsent.State",
        "ChangeClassEnum": "agreements.catalogue.ChangeClass",
        "RoleEnum": "tenants.permissions.Role",
        "DeadlineStageKindEnum": "clocks.rules.StageKind",
        "OrganizationKindEnum": "tenants.models.Organization.Kind",
        "DeviationStateEnum": "deviations.models.Deviation.State",
        "DeviationClassificationEnum": "deviations.models.Classification",
        "ExtensionStateEnum": "deviations.models.ExtensionRequest.State",
        "ConsistencyFlagStateEnum": "deviations.models.ConsistencyFlag.State",
        "CommentKindEnum": "deviations.models.Comment.Kind",
        "CapaStateEnum": "capa.models.Capa.State",
        "CapaActionKindEnum": "capa.models.CapaAction.Kind",
        "BatchStateEnum": "batches.models.Batch.State",
        "DispositionStepEnum": "batches.models.Disposition.Step",
        "DispositionDecisionEnum": "batches.models.Disposition.Decision",
        "BatchDocumentKindEnum": "batches.models.Document.Kind",
        "BatchQueryStateEnum": "batches.models.Query.State",
        "ReleaseModelEnum": "agreements.catalogue.ReleaseModel",
        "ChangeStateEnum": "changes.models.ChangeRequest.State",
        "FilingCategoryEnum": "changes.filing_rules.FilingCategory",
        "ChangeRiskRatingEnum": "changes.models.RiskRating",
        "ChangeRouteRequirementEnum": "changes.models.SponsorRoute.Requirement",
        "ChangeApprovalDecisionEnum": "changes.models.Approval.Decision",
        "ChangeDocumentKindEnum": "changes.models.ChangeDocument.Kind",
        "InspectionStateEnum": "inspections.models.Inspection.State",
        "InspectionOutcomeEnum": "inspections.models.Outcome",
        "InspectionDocumentKindEnum": "inspections.models.Document.Kind",
        "InspectionLogKindEnum": "inspections.models.LogEntry.Kind",
        "Form483StateEnum": "inspections.models.Form483.State",
        "ObservationSubpartEnum": "inspections.taxonomy.Subpart",
        "ObservationSystemEnum": "inspections.taxonomy.System",
        "InspectionNoticeEventEnum": "inspections.api.NOTICE_EVENTS",
        "NotificationEventEnum": "agreements.catalogue.NotificationEvent",
        # Deviations and filing decisions both have a "category": name each choice set.
        "DeviationCategoryEnum": "deviations.models.Category",
    },
}

# --- Celery ----------------------------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than any task may run, so Redis does not redeliver a task that is still being worked on.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "qms.tasks.heartbeat", "schedule": 15.0},
    "expire-access-grants": {"task": "tenants.tasks.expire_access_grants", "schedule": 60.0},
    # The clocks (clocks/sweep.py): fire due stages into the outbox, then deliver. Delivery also runs on its own
    # schedule so that nothing waits on a lost enqueue (broker down at commit time, worker killed).
    "clock-sweep": {"task": "clocks.tasks.sweep", "schedule": float(_int("QMS_SWEEP_INTERVAL", 60, minimum=1))},
    "outbox-delivery": {"task": "clocks.tasks.deliver",
                        "schedule": float(_int("QMS_SWEEP_INTERVAL", 60, minimum=1))},
    # Approved quality agreements take effect on their date (agreements/services.py::activate_due).
    "agreements-activate-due": {"task": "agreements.tasks.activate_due", "schedule": 3600.0},
}
# No task may run longer than this; the visibility timeout above is longer still.
CELERY_TASK_TIME_LIMIT = _int("CELERY_TASK_TIME_LIMIT", 900, minimum=30)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 15
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# /readyz fails when the last worker heartbeat is older than this many seconds.
WORKER_HEARTBEAT_MAX_AGE = _int("WORKER_HEARTBEAT_MAX_AGE", 90, minimum=5)

# --- Logging ------------------------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"skip_readiness_probes": {"()": "qms.health.SkipReadinessProbes"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["skip_readiness_probes"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
