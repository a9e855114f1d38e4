"""Settings for SAT Portal, read from the environment (every variable is in the README)."""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def load_env_file(path: Path) -> None:
    """Read KEY=VALUE lines of a local `.env` (written by ./scripts/demo, never committed) for
    variables the real environment does not set: production sets the real environment."""
    if not path.name or not path.is_file():
        return
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ImproperlyConfigured(f"{path}, line {number}: expected NAME=value")
        os.environ.setdefault(name.strip(), value.strip().strip("'\""))


# ENV_FILE= (empty) reads none: the deployment tests run with exactly the variables they set.
load_env_file(Path(os.environ.get("ENV_FILE", BASE_DIR / ".env")))

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str, *, within: tuple[int, int] | None = None) -> int:
    value = os.getenv(name, default)
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if within is not None and not within[0] <= number <= within[1]:
        low, high = within
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, not {number}")
    return number


def envrate(name: str, default: str) -> str:
    """A request rate such as "600/min" (also /sec, /hour, /day), checked here so that a
    typo stops the app at start-up instead of failing every request it limits."""
    from sat_portal.ratelimit import Rate  # no settings or cache used at import

    value = os.getenv(name, default)
    try:
        Rate.parse(value)
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 600/min, not {value!r}"
        ) from None
    return value


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "false")
# An empty SECRET_KEY is no key: it would pass here and fail on the first sign-in.
SECRET_KEY = os.getenv("SECRET_KEY") or DEV_SECRET_KEY
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it to a long random value, or set DEBUG=true for local use."
    )
SECRET_KEY_FALLBACKS = envlist("SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto, so that Tenant URLs and
# SCIM meta.location say https.
if envbool("USE_X_FORWARDED_PROTO", "false"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app append to X-Forwarded-For (a load balancer: 1).
# The client's address is then the one that many places from the right; with 0 it is the
# connection's own address, and X-Forwarded-For (which any client can write) is ignored.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
# Entra and scripts must never be redirected (a redirect drops a POST body, and SCIM
# answers are JSON only): over plain HTTP they get an error that says to use https.
SECURE_REDIRECT_EXEMPT = [r"^api/"]
SECURE_HSTS_SECONDS = envint("HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HSTS_INCLUDE_SUBDOMAINS", "false")
SECURE_HSTS_PRELOAD = envbool("HSTS_PRELOAD", "false")
# A console or admin session ends after this many seconds without a request
# (sites.sessions.SlidingSessionExpiry keeps it alive while it is used).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_TIMEOUT", str(60 * 60))

INSTALLED_APPS = [
    "sat_portal.apps.SupportAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sites",
    "scim_app",
]

MIDDLEWARE = [
    # Load balancers' probes: answered before host checks, redirects and sessions.
    "sat_portal.health.HealthCheckMiddleware",
    "sat_portal.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sat_portal.middleware.ApiResponseHeaders",
    "scim_app.endpoint.guard.ScimRefusalLimit",
    "scim_app.provisioning_log.middleware.ProvisioningLogMiddleware",
    "scim_app.endpoint.guard.ScimRequestGuard",
    # Calls the SCIM views itself: what follows serves the console, the admin and /api/v1.
    "scim_app.endpoint.middleware.ScimEndpoint",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "sites.sessions.SlidingSessionExpiry",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Console, admin and API docs load scripts and styles from our own static files only:
# no inline script, no CDN.
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

ROOT_URLCONF = "sat_portal.urls"
WSGI_APPLICATION = "sat_portal.wsgi.application"

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
                "sites.console.context.principal",
                "sites.console.context.navigation",
            ],
        },
    },
]

# Unset: a SQLite file in the checkout, so one can clone, install and run with no set-up.
DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that reads the socket instead of sending
    # SELECT 1 before every request (sat_portal/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "sat_portal.postgresql"
    # While the database is unreachable, requests fail within seconds (503) instead of
    # hanging until the load balancer gives up: a connection attempt gives up after
    # DB_CONNECT_TIMEOUT, and an open connection whose server stops answering (a network
    # partition, a frozen host) is dropped once what was sent goes unacknowledged for as
    # long (TCP_USER_TIMEOUT), or once an idle one fails its keepalive probes.
    timeout = envint("DB_CONNECT_TIMEOUT", "3")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=timeout,
        tcp_user_timeout=timeout * 1000,
        keepalives=1,
        keepalives_idle=max(1, timeout),
        keepalives_interval=1,
        keepalives_count=max(1, timeout),
    )
    if envbool("DB_PREPARED_STATEMENTS", "true"):
        # Parameters travel apart from the SQL, and a statement a connection has run 5
        # times is prepared: PostgreSQL parses and plans it once, not on every request.
        # Planning the credential and user lookups cost PostgreSQL more than running
        # them. Off behind a pooler that cannot keep prepared statements (PgBouncer in
        # transaction mode without max_prepared_statements).
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the files that WhiteNoise serves.
STATIC_ROOT = Path(os.getenv("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, with a content hash in every name, so that browsers may keep them a year.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Set-password links (sites.team) work once, for this long.
PASSWORD_RESET_TIMEOUT = 72 * 3600

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console:list"
LOGOUT_REDIRECT_URL = "login"
# Against password guessing: this many failed sign-ins for one username from one address
# refuse further attempts until the window (seconds) since the first failure has passed.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
LOGIN_FAILURE_WINDOW = envint("LOGIN_FAILURE_WINDOW", str(15 * 60))

# Failures for one username from any address before it is refused everywhere for the
# window: a guesser who spreads over many addresses is stopped too.
LOGIN_FAILURE_USERNAME_LIMIT = envint("LOGIN_FAILURE_USERNAME_LIMIT", "20")

# Every counter (sign-in failures, rate limits) lives in this cache. In-process by default;
# with several workers or nodes set REDIS_URL so that all of them share one count.
REDIS_URL = os.getenv("REDIS_URL", "")
CACHES = {
    "default": (
        {
            # Django's Redis cache, reusing its redis-py client (sat_portal/cache.py).
            "BACKEND": "sat_portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.getenv("CACHE_KEY_PREFIX", "sat"),
            # A Redis outage must not hang requests: fail fast, and /readyz reports it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# SCIM bodies above this are refused with 413 (Entra's largest requests are far smaller).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# The public Tenant URL, when the request's own host is not the one Entra should use
# (e.g. https://sat.example.com/api/v2/scim). Empty: built from each request.
SCIM_BASE_URL = os.getenv("SCIM_BASE_URL", "").rstrip("/")
# Refused SCIM requests (no or a bad credential, a body too big) per client address before
# that address gets 429 for the rest of the window; and SCIM requests per site.
SCIM_REFUSAL_RATE_LIMIT = envrate("SCIM_REFUSAL_RATE_LIMIT", "60/min")
SCIM_SITE_RATE_LIMIT = envrate("SCIM_SITE_RATE_LIMIT", "200/sec")
# Each worker remembers the SCIM credentials it looked up, until any credential or site
# changes (sites.remembered). Only safe where every worker shares the cache (REDIS_URL),
# or with a single process: on by default with REDIS_URL.
SCIM_REMEMBER_CREDENTIALS = envbool("SCIM_REMEMBER_CREDENTIALS", "true" if REDIS_URL else "false")
if SCIM_REMEMBER_CREDENTIALS and not REDIS_URL:
    raise ImproperlyConfigured(
        "SCIM_REMEMBER_CREDENTIALS needs REDIS_URL: without a shared cache, a worker would "
        "not hear of a credential revoked through another."
    )
# Provisioning log rows older than this are deleted by the app itself (housekeeping).
PROVISIONING_LOG_RETENTION_DAYS = envint("PROVISIONING_LOG_RETENTION_DAYS", "30")
# Seconds between housekeeping runs (retention of the log and of deleted users, expired
# credentials); one process of all of them runs each time. 0: never (run the commands).
HOUSEKEEPING_INTERVAL = envint("HOUSEKEEPING_INTERVAL", "60")
# Largest page a SCIM list returns, whatever `count` asks for.
SCIM_MAX_PAGE_SIZE = envint("SCIM_MAX_PAGE_SIZE", "500")
# How long a user or group Entra deleted is kept (revivable, restorable) before it is
# purged for good.
SCIM_DELETED_RETENTION_DAYS = envint("SCIM_DELETED_RETENTION_DAYS", "30")
# The mass-deprovisioning guard: a site is flagged when more than this share of its active
# users (and at least this many) are disabled or deleted within the window (seconds).
DEPROVISIONING_ALERT_SHARE = envint("DEPROVISIONING_ALERT_PERCENT", "20") / 100
DEPROVISIONING_ALERT_MINIMUM = envint("DEPROVISIONING_ALERT_MINIMUM", "10")
DEPROVISIONING_ALERT_WINDOW = envint("DEPROVISIONING_ALERT_WINDOW", "3600")
# How long an old Secret Token keeps working after a new one is issued (seconds).
SCIM_TOKEN_GRACE_PERIOD = envint("SCIM_TOKEN_GRACE_PERIOD", str(24 * 3600))
# E-mail alerts (sites.alerts), at most one of each kind per site and day: a site's
# provisioning is failing when more than this percentage of its SCIM requests in the window
# (seconds), and at least this many, were answered with an error (Entra quarantines a job
# above 40%); a credential is expiring this many days before it does.
FAILURE_ALERT_PERCENT = envint("FAILURE_ALERT_PERCENT", "40")
FAILURE_ALERT_MINIMUM = envint("FAILURE_ALERT_MINIMUM", "10")
FAILURE_ALERT_WINDOW = envint("FAILURE_ALERT_WINDOW", str(15 * 60))
EXPIRY_ALERT_DAYS = envint("EXPIRY_ALERT_DAYS", "30")

# OAuth 2.0 client credentials (Entra's gallery requirement since 2026): a client secret
# lasts 1 to 3 years, chosen when it is issued; this is the default (days).
OAUTH_SECRET_LIFETIME_DAYS = envint("OAUTH_SECRET_LIFETIME_DAYS", "365", within=(365, 3 * 365))
# Seconds an access token lasts: Microsoft's validation requires 60 minutes to 6 hours.
OAUTH_ACCESS_TOKEN_LIFETIME = envint("OAUTH_ACCESS_TOKEN_LIFETIME", "3600", within=(3600, 21600))
# Token requests per client id, and per client address (Entra calls from a few shared
# addresses for every tenant: keep this one well above the number of sites per hour).
OAUTH_TOKEN_RATE_LIMIT = envrate("OAUTH_TOKEN_RATE_LIMIT", "30/min")
OAUTH_TOKEN_ADDRESS_RATE_LIMIT = envrate("OAUTH_TOKEN_ADDRESS_RATE_LIMIT", "300/min")

# Workload identity federation (sites.credentials.federation): the hosts a trust's issuer
# and JWKS URL may name. Microsoft's login host only, unless you add others; a loopback
# host named here may be plain http (how the tests serve keys), any other must be https.
FEDERATION_JWKS_HOSTS = [
    host.lower() for host in envlist("FEDERATION_JWKS_HOSTS", "login.microsoftonline.com")
]
# Seconds of clock difference tolerated in an assertion's exp, nbf and iat; and the oldest
# assertion accepted (seconds since its iat; Entra's own tokens last 60 to 90 minutes).
FEDERATION_CLOCK_LEEWAY = envint("FEDERATION_CLOCK_LEEWAY", "60", within=(0, 300))
FEDERATION_ASSERTION_MAX_AGE = envint("FEDERATION_ASSERTION_MAX_AGE", "7200", within=(60, 86400))
# How long an access token minted with an assertion may outlive the assertion's exp
# (seconds). 0: never; the token then lasts OAUTH_ACCESS_TOKEN_LIFETIME or until the
# assertion expires, whichever is sooner.
FEDERATION_TOKEN_OUTLIVES_ASSERTION = envint(
    "FEDERATION_TOKEN_OUTLIVES_ASSERTION", "0", within=(0, 21600)
)
# The key sets (sites.credentials.jwks): fresh for MAX_AGE seconds; an unknown kid fetches
# again at most once per REFETCH_INTERVAL per URL; while the host is unreachable, keys stay
# usable until STALE_SECONDS after they were fetched; a fetch waits at most TIMEOUT.
FEDERATION_JWKS_MAX_AGE = envint("FEDERATION_JWKS_MAX_AGE", "3600", within=(60, 86400))
FEDERATION_JWKS_REFETCH_INTERVAL = envint(
    "FEDERATION_JWKS_REFETCH_INTERVAL", "30", within=(1, 3600)
)
FEDERATION_JWKS_STALE_SECONDS = envint(
    "FEDERATION_JWKS_STALE_SECONDS", "86400", within=(60, 7 * 86400)
)
FEDERATION_JWKS_TIMEOUT = envint("FEDERATION_JWKS_TIMEOUT", "3", within=(1, 30))

# django-scim2: we keep its view skeleton (SCIMView), its auth-check hook and exception
# classes; users, groups, filters and discovery are ours (scim_app/resources/).
SCIM_SERVICE_PROVIDER = {
    "AUTH_CHECK_MIDDLEWARE": "scim_app.endpoint.auth.SiteCredentialAuth",
    "NETLOC": "unused: locations come from SCIM_BASE_URL or the request",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The site's Secret Token, or an access token from the token "
            "endpoint (OAuth 2.0 client credentials), sent as Authorization: Bearer <token>.",
            "primary": True,
        }
    ],
}

LOG_FORMAT = os.getenv("LOG_FORMAT", "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "sat_portal.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"not_implemented": {"()": "sat_portal.observability.NotImplementedIsNoFault"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        # django-scim2 logs whole request and response bodies (personal data) at DEBUG.
        "django_scim": {"level": "INFO"},
        # One line per request comes from sat_portal.requests; Django's own would repeat it.
        "django.request": {"level": "ERROR", "filters": ["not_implemented"]},
        "django.server": {"level": "WARNING"},
    },
}

# Prometheus metrics at /metrics for a scraper that sends `Authorization: Bearer
# <METRICS_TOKEN>`. Unset: /metrics does not exist (404).
METRICS_TOKEN = os.getenv("METRICS_TOKEN", "")


# E-mail (alerts to MSP admins, invitations): smtp://user:password@host:port, smtp+tls://...
# for STARTTLS, smtps://... for TLS from the start. Unset: no e-mail is sent.
def email_settings(url: str) -> dict[str, object]:
    """Django's e-mail settings for an EMAIL_URL."""
    email = urlsplit(url)
    if email.scheme not in ("smtp", "smtp+tls", "smtps") or not email.hostname:
        raise ImproperlyConfigured("EMAIL_URL must look like smtp://user:password@host:port")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": email.hostname,
        "EMAIL_PORT": email.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[email.scheme],
        "EMAIL_HOST_USER": unquote(email.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(email.password or ""),
        "EMAIL_USE_TLS": email.scheme == "smtp+tls",
        "EMAIL_USE_SSL": email.scheme == "smtps",
        "EMAIL_TIMEOUT": 10,
    }


EMAIL_URL = os.getenv("EMAIL_URL", "")
EMAIL_ENABLED = bool(EMAIL_URL)
if EMAIL_ENABLED:
    globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.getenv("EMAIL_FROM", "SAT Portal <noreply@localhost>")

# The console's public address, for links printed by commands and sent by e-mail.
PUBLIC_URL = os.getenv("PUBLIC_URL", "http://localhost:8000").rstrip("/")

# The MSP REST API under /api/v1/ (sites/api/).
REST_FRAMEWORK = {
    # The API key first: its challenge is the WWW-Authenticate header of a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sites.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sites.api.permissions.IsMspStaff"],
    "DEFAULT_THROTTLE_CLASSES": ["sites.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests per API key (or signed-in user): "<n>/sec", "/min", "/hour" or "/day".
API_RATE_LIMIT = envrate("API_RATE_LIMIT", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "SAT Portal API",
    "DESCRIPTION": "Automate an MSP's sites and their Microsoft Entra provisioning. "
    "Authenticate with an MSP API key: `Authorization: Bearer satapi_…`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN, no online validator.
    # (No Redoc: its page loads Google Fonts.)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
}
