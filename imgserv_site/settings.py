"""imgserv settings: the one place the environment is read.

Every value an operator may change is listed, with its default, in `.env.example` and the
README. The defaults are the embedded mode: SQLite, the Django-Q2 ORM broker and the in-memory
channel layer, everything under one data folder. Setting DATABASE_URL and REDIS_URL switches to
the scale-out mode; no code changes.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

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
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "channels",
    "django_q",
    "cameras",
    "analytics",
    "sequences",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The in-memory layer lives inside the web process, so a build in the worker cannot reach it;
# the web process then watches the database for new sequences itself (sequences/live.py).
LIVE_WATCH_DATABASE = not REDIS_URL
LIVE_WATCH_INTERVAL = env.float("LIVE_WATCH_INTERVAL", default=1.0)

Q_CLUSTER = {
    "name": "imgserv",
    "workers": env.int("Q_WORKERS", default=4),
    # Capture shifts run for a few minutes; builds take seconds.
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

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}

# Frames older than this are deleted unless a kept sequence uses them.
FRAME_RETENTION_HOURS = env.int("FRAME_RETENTION_HOURS", default=24)
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

# /health reports the worker as missing when its capture clock has not ticked for this long.
WORKER_STALE_AFTER_SECONDS = env.int("WORKER_STALE_AFTER_SECONDS", default=180)
# /health fails below this much free space in the data folder.
MIN_FREE_DISK_MB = env.int("MIN_FREE_DISK_MB", default=200)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
