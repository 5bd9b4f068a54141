"""imgserv settings: the one place the environment is read.

Every value an operator may change is listed, with its default, in `.env.example` and the
README. The defaults are the embedded mode: SQLite, the Django-Q2 ORM broker and the in-memory
channel layer, everything under one data folder. Setting DATABASE_URL and REDIS_URL switches to
the scale-out mode; no code changes.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from imgserv_site.log_filters import CLIENT_FAULT_LOGGERS
from imgserv_site.metrics.folders import process_tree_folder

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The operator's settings file. IMGSRV_ENV_FILE names another one, or none when empty: the test
# settings empty it, so that a developer's `.env` never changes what a test run sees.
ENV_FILE = env.str("IMGSRV_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE)

VERSION = "0.1.0"

DATA_DIR = Path(env.str("IMGSRV_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated on first start and kept in DATA_DIR.

    Keeping it in the data folder means sessions survive restarts without a key in the code.
    """
    given = env.str("SECRET_KEY", default="")
    if given:
        return given
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# The key that encrypts camera passwords in the database (cameras.secrets): `field_key` in the
# data folder unless this names another file, e.g. one copy shared by scale-out nodes.
FIELD_KEY_FILE = env.str("FIELD_KEY_FILE", default="")
# Detailed error pages show settings and source; never on a public server.
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# Origins (scheme://host[:port]) allowed to POST with a CSRF token, e.g. the public HTTPS name
# when it differs from the Host that reaches Django.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# TRUSTED_PROXY: Django sits behind our nginx (deploy/nginx), which sets X-Forwarded-Proto/-For/
# -Host. Only then may those headers be believed; from a client directly they are forgeries
# (a fake https, a fake host, a fake client address to dodge the rate limits).
TRUSTED_PROXY = env.bool("TRUSTED_PROXY", default=False)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# HTTPS: the site is reached over HTTPS (directly or through the trusted proxy). Cookies are
# then sent over HTTPS only and browsers are told to stay on HTTPS (HSTS).
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
# Redirect plain HTTP to HTTPS. Behind a proxy that terminates TLS this needs TRUSTED_PROXY,
# or Django never sees the request as secure and redirects forever.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
# Local monitors probe /health, and Prometheus scrapes /metrics, over plain HTTP on 127.0.0.1.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
# HSTS lifetime (seconds); 0 sends none. Sub-domains and preloading are the domain owner's
# choice, not this one host's, so they are opt-in (see SILENCED_SYSTEM_CHECKS).
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    # HSTS includeSubDomains and preload bind every host of the parent domain, which a camera
    # server on one sub-domain cannot decide; HSTS_INCLUDE_SUBDOMAINS / HSTS_PRELOAD opt in.
    "security.W005",
    "security.W021",
]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Sites allowed to show /iframe and /camera/<slug>/iframe in a frame (comma separated
# origins, e.g. https://news.example.org). Every other page refuses to be framed.
IFRAME_ALLOWED_ORIGINS = env.list("IFRAME_ALLOWED_ORIGINS", default=[])

# Admin login throttling: after this many failed logins for one user name from one client
# address, that pair is refused for LOGIN_LOCKOUT_MINUTES (counted in the cache).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# ...and after this many for one user name from all addresses together, that user name is
# refused for LOGIN_LOCKOUT_MINUTES too, except from addresses it logged in from before.
LOGIN_USER_FAILURE_LIMIT = env.int("LOGIN_USER_FAILURE_LIMIT", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AUTHENTICATION_BACKENDS = ["imgserv_site.security.LockoutModelBackend"]

# No "daphne" app: it only makes `runserver` serve ASGI, and it imports Twisted into every
# process (18 MiB each in the worker and its task cluster). The web process is daphne itself
# (`python -m daphne`, deploy/run-local.py and the web unit), which loads Twisted there only.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_q",
    "cameras",
    "analytics",
    "sequences",
    "publishing",
    # Hears all of the above and imports none of them back (notifications/).
    "notifications",
    # Hears the same apps, one way too, and publishes to an MQTT broker (mqtt/).
    "mqtt",
    # Last: it composes the apps above (API, /status, the camera admin, commands).
    "imgserv_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files get the headers too.
    "imgserv_site.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "imgserv_site.urls"
ASGI_APPLICATION = "imgserv_site.asgi.application"

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

# SQLite needs WAL and a busy timeout so the web and worker processes can write at once
# without "database is locked"; IMMEDIATE transactions take the write lock up front, which
# lets the busy timeout work instead of failing on a lock upgrade.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'imgserv.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 ends socket reads after 5 s by default, which would end the layer's
            # blocking receive (BZPOPMIN, 5 s) and with it every idle websocket.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds rate-limit and login-failure counters. Embedded mode runs one web process,
# so a per-process memory cache sees every request; several daphne processes must share
# Redis, or each would allow the full rate.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "imgserv",
        },
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "imgserv-shared",
        },
    }
else:
    # "shared" must reach across the web and worker processes (imgserv_site.freshness):
    # files under DATA_DIR. Rate limits stay in each process's memory: they are written on
    # every request.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        },
    }
# Public pages served, between changes, from what the web process built last.
FRESH_PAGES = env.list(
    "FRESH_PAGES", default=["/", "/iframe", "/camera/", "/status", "/api/status"]
)
# Of those, the ones under the public rate limit (PUBLIC_RATE), as the REST API's are.
FRESH_PAGES_LIMITED = ["/status", "/api/status"]
# Behind nginx (deploy/nginx/camera-server.conf), the path prefix nginx sends media files
# from: X-Accel-Redirect instead of Python streaming them. Empty: Python sends them, and
# each client may fetch MEDIA_RATE whole files.
MEDIA_ACCEL_PREFIX = env.str("MEDIA_ACCEL_PREFIX", default="")
MEDIA_RATE = env.str("MEDIA_RATE", default="30/min")

# The in-memory layer lives inside the web process, so a build in the worker cannot reach it;
# the web process then watches the database for new sequences itself (sequences/live.py).
LIVE_WATCH_DATABASE = not REDIS_URL
# 0.25 s keeps delivery to 1,000 viewers under 1 s (bench/viewers.py); a poll is three
# small indexed queries.
LIVE_WATCH_INTERVAL = env.float("LIVE_WATCH_INTERVAL", default=0.25)

# Task worker processes per worker node: "auto" sizes them to the cameras (one per
# CAMERAS_PER_TASK_WORKER, at most one per core), decided when the worker starts.
Q_WORKERS = env.str("Q_WORKERS", default="auto")
CAMERAS_PER_TASK_WORKER = env.int("CAMERAS_PER_TASK_WORKER", default=10)
Q_CLUSTER = {
    "name": "imgserv",
    "workers": int(Q_WORKERS) if Q_WORKERS.isdigit() else 1,
    # A build decodes and holds a whole sequence; a fresh process gives that memory back.
    "recycle": env.int("Q_RECYCLE", default=50),
    "max_rss": env.int("Q_MAX_RSS_MB", default=200) * 1024,
    # Builds and publishing take seconds; capture is not a task (cameras.runner).
    "timeout": 600,
    "retry": 660,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 500,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))

# Requests per client (user, else address) to the public API, /status and analytics:
# "<count>/<sec|min|hour|day>". Past it: 429 with Retry-After.
PUBLIC_RATE = env.str("PUBLIC_RATE", default="120/min")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Token first: an anonymous write then gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["imgserv_site.api.permissions.ReadOnlyOrStaff"],
    "DEFAULT_THROTTLE_CLASSES": ["imgserv_site.api.throttles.PublicRateThrottle"],
    # The client address is the last X-Forwarded-For hop only behind our own proxy; otherwise
    # REMOTE_ADDR, since a client can write any X-Forwarded-For it likes.
    "NUM_PROXIES": 1 if TRUSTED_PROXY else 0,
    # Public reads documented without security, and every refusal with its body.
    "DEFAULT_SCHEMA_CLASS": "imgserv_site.api.schema.ApiAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "imgserv API",
    "DESCRIPTION": "Road cameras, their latest sequences, conditions and health. Reading is "
    "public and rate limited per client; changing a camera needs a staff session or token.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components without the read-only fields, and with what the
    # serializers refuse (a blank name, say), so a client is told exactly what is accepted.
    "COMPONENT_SPLIT_REQUEST": True,
    # Only /api/ is documented; /status and the viewer pages have their own contracts.
    "PREPROCESSING_HOOKS": ["imgserv_site.api.schema.only_api_paths"],
    # One name per choice set used by several fields (`state` and `states`; `units` with and
    # without "auto"), so clients get stable enum names.
    "ENUM_NAME_OVERRIDES": {
        "StatesEnum": "analytics.kinds.State",  # its name before `state` shared it
        "UnitsEnum": "cameras.units.Units",
        "ShownUnitsEnum": "cameras.units.SHOWN_UNITS",
    },
    # Swagger UI from the installed sidecar package, served as our static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public validator service from the reader's browser.
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
}

# Frames older than this are deleted unless a kept sequence uses them.
FRAME_RETENTION_HOURS = env.int("FRAME_RETENTION_HOURS", default=24)
# Days at a glance (daily timelapse and day strip) kept per camera.
DAY_DIGEST_KEEP_DAYS = env.int("DAY_DIGEST_KEEP_DAYS", default=14)
# Cap on frames and sequences together (MB); the oldest go first. 0 turns the cap off.
MEDIA_QUOTA_MB = env.int("MEDIA_QUOTA_MB", default=2048)

# Weather services; tests point these at a local server serving recorded responses.
NWS_API_URL = env.str("NWS_API_URL", default="https://api.weather.gov")
OPEN_METEO_API_URL = env.str("OPEN_METEO_API_URL", default="https://api.open-meteo.com")
# The NWS asks every client to identify itself with a contact.
WEATHER_USER_AGENT = env.str(
    "WEATHER_USER_AGENT", default="imgserv/0.1 (+https://github.com/imgserv/imgserv)"
)
WEATHER_TIMEOUT_S = env.float("WEATHER_TIMEOUT_S", default=10.0)
# How long the last good forecast keeps serving while the provider is down.
FORECAST_MAX_AGE_HOURS = env.int("FORECAST_MAX_AGE_HOURS", default=6)
# Units shown where a camera leaves its own on "auto": auto (from each camera's location: US
# units in the United States), metric (°C, cm) or us (°F, inches). Stored values stay metric.
UNITS = env.str("UNITS", default="auto").strip().lower()
if UNITS not in ("auto", "metric", "us"):
    raise ImproperlyConfigured(f"UNITS must be auto, metric or us, not “{UNITS}”.")

# /health reports the worker as missing when its capture clock has not ticked for this long.
# The capture service in each worker beats every second: this much silence means it is gone.
WORKER_STALE_AFTER_SECONDS = env.int("WORKER_STALE_AFTER_SECONDS", default=15)
# /health fails below this much free space in the data folder.
MIN_FREE_DISK_MB = env.int("MIN_FREE_DISK_MB", default=200)

# Notifications (notifications/): e-mail goes through Django's mail backend and these settings.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Django's default is no timeout at all: a mail server that never answers would hold a task.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="imgserv@localhost")
# Seconds a webhook receiver has to answer one delivery.
NOTIFY_TIMEOUT_S = env.float("NOTIFY_TIMEOUT_S", default=10.0)
# Per target, event and camera (or publish target), at most one "began" notification in this
# many minutes: a flapping camera is told once, and again only if it is still down after it.
NOTIFY_MIN_INTERVAL_MINUTES = env.int("NOTIFY_MIN_INTERVAL_MINUTES", default=15)
# Publishing that has failed for this long is notified (disk low uses MIN_FREE_DISK_MB).
NOTIFY_PUBLISH_FAILING_MINUTES = env.int("NOTIFY_PUBLISH_FAILING_MINUTES", default=30)

# MQTT with Home Assistant discovery (mqtt/, docs/mqtt.md): off while MQTT_URL is empty.
# mqtt://user:password@host:1883, or mqtts://… for TLS; checked by `doctor`, not here, so a
# malformed one never stops the site.
MQTT_URL = env.str("MQTT_URL", default="")
MQTT_TOPIC_PREFIX = env.str("MQTT_TOPIC_PREFIX", default="imgserv").strip().strip("/")
MQTT_DISCOVERY_PREFIX = env.str("MQTT_DISCOVERY_PREFIX", default="homeassistant").strip().strip("/")

# Prometheus metrics at /metrics (imgserv_site.metrics). The official client adds up several
# processes through files: each process tree (the web server; a worker and its task processes)
# counts into a folder of its own under METRICS_DIR, made here and inherited by its children;
# the folders of trees that have ended are removed as each tree starts. The client reads
# PROMETHEUS_MULTIPROC_DIR, so it is set here, before anything imports the client.
METRICS_DIR = Path(env.str("METRICS_DIR", default=str(DATA_DIR / "metrics"))).resolve()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(
    process_tree_folder(METRICS_DIR, env.str("PROMETHEUS_MULTIPROC_DIR", default=""))
)
# Who may read /metrics: clients from these addresses or networks (the address as the rate
# limits see it; a request relayed by a proxy counts only with TRUSTED_PROXY), or any client
# that sends `Authorization: Bearer <METRICS_TOKEN>`. Everyone else gets 403.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: “{_network}” is not an address or network, e.g. 10.0.0.0/8."
        ) from None

# The log goes to stderr (journald under systemd). LOG_FILE adds a file: several processes write
# it, so each reopens it once logrotate has moved it (deploy/logrotate.conf); a size-rotating
# handler in each process would rotate it under the others.
LOG_FILE = env.str("LOG_FILE", default="")
LOG_HANDLERS: dict[str, dict[str, str]] = {
    "console": {"class": "logging.StreamHandler", "formatter": "plain"}
}
if LOG_FILE:
    Path(LOG_FILE).parent.mkdir(parents=True, exist_ok=True)
    LOG_HANDLERS["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "formatter": "plain",
    }
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": LOG_HANDLERS,
    "filters": {"without_traceback": {"()": "imgserv_site.log_filters.WithoutTraceback"}},
    "root": {"handlers": list(LOG_HANDLERS), "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # A bad Host and the like: one line each, not a traceback anyone can trigger.
        **{name: {"filters": ["without_traceback"]} for name in CLIENT_FAULT_LOGGERS},
    },
}
