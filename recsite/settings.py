"""Settings for recsite, read from the environment (and a `.env` file beside manage.py).

Development is safe by default; with DEBUG off (production) missing secrets stop start-up.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
SESSION_PASSWORD = env.str("SESSION_PASSWORD", default="")
if not DEBUG:
    missing = [name for name in ("SECRET_KEY", "SESSION_PASSWORD") if not globals()[name]]
    if missing:
        raise ImproperlyConfigured(
            f"Set {' and '.join(missing)} in the environment or in .env: they are required "
            "when DEBUG is off (production). For development, set DEBUG=1."
        )
# Development without a key: a random one, good for this process only (recsite.checks
# warns that tokens and model files signed with it do not outlive the process).
SECRET_KEY_IS_RANDOM = not SECRET_KEY
SECRET_KEY = SECRET_KEY or get_random_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "recsite",
    "common",
    "movies",
    "recommender",
]

MIDDLEWARE = [
    "recsite.middleware.RequestLogMiddleware",  # outermost: times and logs every request
    "recsite.middleware.DebugNotFoundMiddleware",
    "recsite.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "recsite.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "recsite.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "recsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "recsite.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; IMMEDIATE plus a timeout queues writers
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's pool: each process holds at most DB_POOL_SIZE connections, whatever the
    # number of simultaneous requests (a gevent worker takes many at once); the others wait
    # up to DB_POOL_TIMEOUT seconds for one. Replicas x workers x DB_POOL_SIZE must stay
    # below PostgreSQL's max_connections (docs/operations.md).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DB_POOL_SIZE", default=4),
        "timeout": env.float("DB_POOL_TIMEOUT", default=5),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
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
STATIC_ROOT = VAR_DIR / "static"

# --- Security ----------------------------------------------------------------------------
# Production (DEBUG off) is HTTPS-only and passes `manage.py check --deploy`. Serving plain
# HTTP (make serve on 127.0.0.1) sets SECURE_SSL_REDIRECT=0 and SECURE_COOKIES=0. The
# cookies have a switch of their own: an operator whose TLS proxy already redirects turns
# the redirect off and must keep them Secure. Behind a TLS proxy, gunicorn's
# --forwarded-allow-ips already marks proxied HTTPS requests secure; other servers set
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https, and only if the proxy always
# overwrites that header.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
# Load balancers and Docker's HEALTHCHECK probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_PROXY_SSL_HEADER = env.tuple("SECURE_PROXY_SSL_HEADER", default=None)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Proxies whose X-Forwarded-For names the client (addresses or CIDR networks). Requests from
# any other address are identified by their socket address alone (recsite.access.clients).
try:
    TRUSTED_PROXIES = tuple(
        ipaddress.ip_network(proxy, strict=False)
        for proxy in env.list("TRUSTED_PROXIES", default=[])
    )
except ValueError as error:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXIES must list IP addresses or networks: {error}."
    ) from None

# Per-client limits count an IPv6 client by its network of this many bits: one subscriber
# commonly holds a whole /64 (recsite.access.clients.client_key).
IPV6_CLIENT_PREFIX = env.int("IPV6_CLIENT_PREFIX", default=64)
if not 32 <= IPV6_CLIENT_PREFIX <= 128:
    raise ImproperlyConfigured("IPV6_CLIENT_PREFIX must be a prefix length from 32 to 128.")

# Sent on every HTML response (recsite.middleware): scripts, styles, images and form
# targets from this server only, no inline script or style, no plugins, never in a frame.
# Swagger UI's assets are served from here too (SWAGGER_UI_DIST below); its stylesheet
# draws its icons as data: images.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# --- Limits ------------------------------------------------------------------------------
# Bodies above this many bytes get 413 before any view reads them (recsite.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY", default=16 * 1024)

# --- Data and model ------------------------------------------------------------------
ML100K_SOURCE = env.str("ML100K_SOURCE", default="")
ML100K_CACHE_DIR = env.path("ML100K_CACHE_DIR", default=VAR_DIR / "cache")
ML_MODEL_PATH = env.path("ML_MODEL_PATH", default=VAR_DIR / "model.joblib")
# Signs the artifact so that only files this server wrote are ever unpickled.
# Not env.str's default: django-environ reads a default that starts with "$" (as a random
# SECRET_KEY may) as the name of another variable, and recurses.
MODEL_SIGNING_KEY = env.str("MODEL_SIGNING_KEY") if "MODEL_SIGNING_KEY" in env else SECRET_KEY
if not MODEL_SIGNING_KEY.strip():
    raise ImproperlyConfigured(
        "MODEL_SIGNING_KEY is set but empty or blank: give it a long random value, or unset "
        "it to sign model files with SECRET_KEY."
    )

# --- API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["recsite.access.tokens.SessionTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["recsite.parsers.JSONParser"],
    # JSON first: clients that send no Accept header, or */*, get JSON; browsers get HTML.
    "DEFAULT_RENDERER_CLASSES": [
        "recsite.renderers.FastJSONRenderer",
        "recsite.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "recsite.exceptions.api_exception_handler",
    # Per client (recsite.access.clients.client_ip) unless named otherwise.
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("LOGIN_THROTTLE_RATE", default="10/min"),
        "admin_login": env.str("LOGIN_THROTTLE_RATE", default="10/min"),
        # Failed logins of all clients together, for /api/login and the admin each.
        "login_failures": env.str("LOGIN_FAILURE_BUDGET", default="100/min"),
        "feedback_token": env.str("FEEDBACK_THROTTLE_RATE", default="60/min"),
        "feedback_client": env.str("FEEDBACK_CLIENT_THROTTLE_RATE", default="300/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME", default=24 * 3600)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "sub",
    "TOKEN_USER_CLASS": "rest_framework_simplejwt.models.TokenUser",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "recsite API",
    "DESCRIPTION": "Movie recommendations for a new user known by age, gender and occupation.",
    "VERSION": "1.0.0",
    # Every operation takes one of these tags; Swagger UI groups by them, in this order.
    "TAGS": [
        {"name": "authentication", "description": "The session password for a token."},
        {"name": "recommendations", "description": "Movies for a new user."},
        {"name": "catalogue", "description": "Find a movie's id by its name."},
        {"name": "feedback", "description": "What a person did with a recommendation."},
        {"name": "operations", "description": "Welcome, probes and the served model."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components, with what only requests need (minLength).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "recsite.schema.document_body_limit",
    ],
    # Swagger UI's assets come from the project itself: no CDN on the machines that run it.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# One JSON object per line; recsite.middleware logs one line per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "filters": {"tracebacks_only": {"()": "recsite.logs.TracebacksOnly"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"filters": ["tracebacks_only"]}},
}
