"""Settings of the NSS portal.

Every value that differs between machines comes from the environment (django-environ). When nothing is set,
the embedded defaults of SPEC §7 apply: SQLite under var/, Celery tasks run eagerly in-process, e-mail to the
console and to files under var/mail/. Production values are never kept in the repository.
"""

import datetime
from pathlib import Path

import environ

from nss_portal import production as _production

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# DJANGO_PRODUCTION=true switches every security default to its production value (HTTPS only, HSTS, secure
# cookies, manifest static files, JSON logs); each can still be set on its own. `check --deploy` is clean with it.
PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
# The embedded default key only exists so that `make run` works on a fresh clone; production refuses it
# (see the check in nss_portal/checks.py).
INSECURE_DEFAULT_SECRET_KEY = "insecure-local-only-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or INSECURE_DEFAULT_SECRET_KEY
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

TIME_ZONE = "Asia/Tokyo"
USE_TZ = True
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# APPS
# ------------------------------------------------------------------------------
# No django.contrib.admin: every change goes through the services of the staff workplace (/staff/), which check
# roles and four-eyes, lock rows and write the audit trail; an admin would be a second, unaudited way in
# (docs/decisions.md).
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "auditlog",
    "axes",
    "nss_portal",
    "applications",
    "reviews",
    "notifications",
    "utb_gateway",
]

MIDDLEWARE = [
    "nss_portal.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "nss_portal.middleware.JapaneseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "nss_portal.security.SecurityHeadersMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nss_portal.urls"
WSGI_APPLICATION = "nss_portal.wsgi.application"

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
    # The rows of the 50-row tables only (nss_portal/jinja2.py): `{% jinja "…" %}` in a Django template.
    {
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "nss_portal.jinja2.environment"},
    },
]

# DATABASE
# ------------------------------------------------------------------------------
# An empty DATABASE_URL counts as unset (the embedded SQLite; production refuses it below).
DATABASES = {
    "default": env.db_url_config(env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE makes a writing transaction take SQLite's write lock at BEGIN, so two requests that lock the
    # same draft (double click) queue up instead of failing with "database is locked" half-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # QuerySet.iterator() (a form's choices among them) reads its rows in one go instead of through a server-side
    # cursor (DECLARE … WITH HOLD, FETCH, CLOSE: three round trips for a handful of processing methods); nothing
    # here iterates a large table that way — the CSV export pages by keyset. It also keeps a transaction pooler
    # in front of PostgreSQL possible.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ENCRYPTION AT REST (applications/crypto.py): Fernet keys, newest first, comma-separated.
NSS_ENCRYPTION_KEYS = [key for key in env.list("NSS_ENCRYPTION_KEYS", default=[]) if key]

# REDIS / CACHE
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "nss_portal.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions (the portal's and the UTB gateway's) are kept in the database and read through the shared Redis cache:
# one Redis GET instead of an ORM query on every request, and every web instance sees the same sessions. Without
# Redis (the embedded defaults) the cache is per process, so the database alone. Ending an account's sessions does
# not depend on the store: the session's auth hash carries the account's session epoch (applications/models.py).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)

# PRODUCTION FAILS CLOSED (nss_portal/production.py): every process refuses to start, naming what is missing or
# invalid. An invalid Fernet key is refused in every mode: it could only break every approval later.
_problems = _production.fernet_key_problems(NSS_ENCRYPTION_KEYS)
if PRODUCTION:
    _problems += _production.production_problems(
        secret_key=env("DJANGO_SECRET_KEY", default=""),
        insecure_default_secret_key=INSECURE_DEFAULT_SECRET_KEY,
        encryption_keys=NSS_ENCRYPTION_KEYS,
        database_engine=DATABASES["default"]["ENGINE"],
        database_url_set=bool(env("DATABASE_URL", default="")),
        redis_url=REDIS_URL,
        tasks_eager=env.bool("CELERY_TASK_ALWAYS_EAGER", default=False),
        base_url=env("NSS_BASE_URL", default=""),
    )
if _problems:
    raise _production.refusal(_problems, production=PRODUCTION)

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "applications.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "nss_portal.backends.PortalBackend",
    # Sessions made before PortalBackend name this one; it loads the same accounts.
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "menu"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # 利用者ID passwords (UTB gateway): see applications/hashers.py.
    "applications.hashers.NaccsScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# SECURITY
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
# Load balancers probe the health endpoints over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Behind a TLS-terminating load balancer that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", False) else None
)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every screen works without JavaScript and no template has inline script or style, so the policy allows only
# this origin's files. Bootstrap's CSS draws some icons with data: SVG images.
NSS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
NSS_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# LOGIN LOCKOUT (django-axes): portal and staff logins. The UTB gateway locks 利用者IDs itself (utb_gateway).
AXES_FAILURE_LIMIT = env.int("NSS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("NSS_LOGIN_LOCKOUT_MINUTES", default=15))
# Lock the pair (account, address): an attacker cannot lock a user out from everywhere, and one address cannot
# try one account more than the limit.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "nss_portal/locked_out.html"
# How many reverse proxies in front of the web processes append to X-Forwarded-For (nginx of the compose file: 1).
# The client address of the login lockouts (django-axes and the UTB gateway) is read this many hops from the right;
# 0 means REMOTE_ADDR, never a header the client could forge.
NSS_TRUSTED_PROXY_COUNT = env.int("NSS_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "nss_portal.client_address.client_address"
AXES_VERBOSE = False

# STATIC
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production images set whitenoise.storage.CompressedManifestStaticFilesStorage and run collectstatic.
        "BACKEND": env(
            "DJANGO_STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
# Serve straight from static/ when collectstatic has not run (embedded default, tests).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=not PRODUCTION)

# FORMS
# ------------------------------------------------------------------------------
# Widgets (inputs, selects and their options, error lists) drawn by Django's own Jinja2 templates of them, the
# same HTML as its Django-template ones at a fraction of the cost (docs/decisions.md, "Performance"); crispy-forms
# still lays out every field. There is no admin, whose widgets exist only as Django templates.
FORM_RENDERER = "django.forms.renderers.Jinja2"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-MAIL
# ------------------------------------------------------------------------------
# Embedded default: every message goes to the console and to a file under var/mail/ (see notifications/backends.py).
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="notifications.backends.ConsoleAndFileEmailBackend")
EMAIL_FILE_PATH = env("DJANGO_EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=1025)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="NSS <nss-noreply@naccs.example>")
# Absolute base of every link in e-mails (required, https://, in production: nss_portal/production.py).
NSS_BASE_URL = env("NSS_BASE_URL", default="http://127.0.0.1:8000")
# Who the customer contacts: the block every e-mail ends with (its lines, separated by commas), under a note that
# the sending address takes no replies.
NSS_CENTRE_NAME = env("NSS_CENTRE_NAME", default="NACCSセンター")
NSS_CENTRE_CONTACT = env.list(
    "NSS_CENTRE_CONTACT",
    default=["NACCSセンター ヘルプデスク", "電話：0120-000-000（平日 9:00～17:00）"],
)

# CELERY
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Without a broker (embedded default) tasks run in-process at the call.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or env("CELERY_BROKER_URL", default=""))
)
CELERY_TASK_EAGER_PROPAGATES = True
# Reliability, chosen together:
# - acks_late: a message is acknowledged only after its task finished, so a worker that dies mid-task does not lose
#   it (Redis redelivers it once the visibility timeout has passed);
# - reject_on_worker_lost: a task whose worker process was killed is re-queued at once instead of being acked;
# - prefetch multiplier 1: a worker holds one unacknowledged message at a time, so a crash strands at most one and
#   long tasks do not hold messages other workers could run;
# - visibility timeout 300 s: how long Redis waits for an ack before redelivering; longer than any task may run
#   (time limit 120 s), so a slow task is not run twice, short enough that a lost one comes back in minutes.
# Every task is idempotent on its own (the outbox row's lock and status), so a redelivery is always harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request must never hang on a broker that is down: fail fast, the sweeper sends later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="nss")
CELERY_BEAT_SCHEDULE = {
    "email-requeue-unsent": {
        "task": "notifications.tasks.email_requeue_unsent",
        "schedule": env.float("NSS_EMAIL_SWEEP_INTERVAL_SECONDS", default=30.0),
    },
    # SPEC §10: initial passwords past their retention (or already changed) lose their ciphertext.
    "initial-passwords-destroy": {
        "task": "applications.tasks.initial_passwords_destroy_task",
        "schedule": env.float("NSS_INITIAL_PASSWORD_SWEEP_INTERVAL_SECONDS", default=3600.0),
    },
    # Drafts: the expiry warning a few days before, then the deletion (NSS_DRAFT_EXPIRY_DAYS).
    "application-drafts-expire": {
        "task": "applications.tasks.application_drafts_expire_task",
        "schedule": env.float("NSS_DRAFT_EXPIRY_SWEEP_INTERVAL_SECONDS", default=3600.0),
    },
}

# OUTBOX (notifications)
# ------------------------------------------------------------------------------
# A queued e-mail the task has not sent within this time is re-queued by the sweeper.
NSS_EMAIL_SWEEP_GRACE_SECONDS = env.int("NSS_EMAIL_SWEEP_GRACE_SECONDS", default=60)
# Backoff after a failed attempt: base × 2^(attempt-1), at most NSS_EMAIL_RETRY_MAX_SECONDS; FAILED after this many
# attempts (at once when the server refuses the recipient or the message with a 5xx).
NSS_EMAIL_RETRY_BASE_SECONDS = env.int("NSS_EMAIL_RETRY_BASE_SECONDS", default=30)
NSS_EMAIL_RETRY_MAX_SECONDS = env.int("NSS_EMAIL_RETRY_MAX_SECONDS", default=3600)
NSS_EMAIL_MAX_ATTEMPTS = env.int("NSS_EMAIL_MAX_ATTEMPTS", default=8)
# How long one claimed attempt (SENDING) may take before the sweeper takes the row back as lost: well over an SMTP
# conversation (a few round trips of EMAIL_TIMEOUT each) and the task's time limit, so a slow send is not taken
# back while it still runs.
NSS_EMAIL_LEASE_SECONDS = env.int("NSS_EMAIL_LEASE_SECONDS", default=150)
NSS_EMAIL_MESSAGE_ID_DOMAIN = env("NSS_EMAIL_MESSAGE_ID_DOMAIN", default="nss.naccs.example")

# AUDIT (django-auditlog): the JSON change format; services record each action (applications/audit.py).
AUDITLOG_STORE_JSON_CHANGES = True

# STAFF (SPEC §4)
# ------------------------------------------------------------------------------
# Four-eyes: the approver must differ from the reviewer who took the application.
NSS_FOUR_EYES = env.bool("NSS_FOUR_EYES", default=False)
OTP_TOTP_ISSUER = "NSS"
# A staff enrolment link (SPEC §10: the staff member sets their own password and authenticator) expires after this.
NSS_STAFF_ENROLMENT_HOURS = env.int("NSS_STAFF_ENROLMENT_HOURS", default=72)
# 「パスワードをお忘れの方」 (SPEC §11): how long a reset link stays valid, and how many requests an hour one client
# address or one e-mail address may make (beyond that the answer is the same and nothing is sent).
NSS_PASSWORD_RESET_MINUTES = env.int("NSS_PASSWORD_RESET_MINUTES", default=60)
# How long an invitation to a customer account stays valid (SPEC §11).
NSS_CUSTOMER_INVITATION_HOURS = env.int("NSS_CUSTOMER_INVITATION_HOURS", default=72)
# The largest CSV the upload screen of the contract import takes (10,000 offices with their IDs are about 7 MB).
NSS_CONTRACT_IMPORT_MAX_BYTES = env.int("NSS_CONTRACT_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
NSS_PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("NSS_PASSWORD_RESET_LIMIT_PER_ADDRESS", default=10)
NSS_PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("NSS_PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
# The mail domains a staff account's address may have (the centre's own), e.g. "naccs.jp,centre.naccs.jp": an
# approver then cannot send a new account's enrolment link to a mailbox outside the centre. Empty: any domain.
NSS_STAFF_EMAIL_DOMAINS = [
    domain.lower().lstrip("@") for domain in env.list("NSS_STAFF_EMAIL_DOMAINS", default=[])
]

# INITIAL PASSWORDS (SPEC §10): the ID notice shows one until the ID's password is changed; its ciphertext is
# destroyed then, or after this many days at the latest (beat task).
NSS_INITIAL_PASSWORD_RETENTION_DAYS = env.int("NSS_INITIAL_PASSWORD_RETENTION_DAYS", default=90)

# UTB GATEWAY (SPEC §6)
# ------------------------------------------------------------------------------
# Whether a national holiday on a weekday counts as a weekday for the UTB hours (weekdays 00:00–23:00).
NSS_UTB_OPEN_ON_HOLIDAYS = env.bool("NSS_UTB_OPEN_ON_HOLIDAYS", default=False)
NSS_UTB_MAX_FAILED_LOGINS = env.int("NSS_UTB_MAX_FAILED_LOGINS", default=5)
NSS_UTB_LOCKOUT_MINUTES = env.int("NSS_UTB_LOCKOUT_MINUTES", default=15)
# After a successful password check, the same ID + password skip the slow hash for this long (API hot path).
NSS_UTB_VERIFIED_CACHE_SECONDS = env.int("NSS_UTB_VERIFIED_CACHE_SECONDS", default=300)

# BUSINESS RULES (SPEC §3)
# ------------------------------------------------------------------------------
# 利用開始希望日: at least this many business days after submission …
NSS_START_DATE_MIN_BUSINESS_DAYS = env.int("NSS_START_DATE_MIN_BUSINESS_DAYS", default=2)
# … and at most this many months ahead.
NSS_START_DATE_MAX_MONTHS = env.int("NSS_START_DATE_MAX_MONTHS", default=3)
# Extra (month, day) pairs on which the centre is closed besides weekends and public holidays. By default the
# year-end closure 年末年始, 12/29–1/3 (1/1 is a public holiday anyway); an empty value ("") closes no extra day.
NSS_CENTRE_CLOSED_DAYS = [
    tuple(int(part) for part in pair.split("-"))
    for pair in env.list("NSS_CENTRE_CLOSED_DAYS", default=["12-29", "12-30", "12-31", "1-2", "1-3"])
]
# The staff queue marks an open application 「開始日間近」 when its desired start date is within this many business
# days (SPEC §8).
NSS_START_DATE_WARNING_BUSINESS_DAYS = env.int("NSS_START_DATE_WARNING_BUSINESS_DAYS", default=2)
# IDs in one application.
NSS_MAX_IDS_PER_APPLICATION = env.int("NSS_MAX_IDS_PER_APPLICATION", default=20)
# A draft (作成中) is kept this many days after the day of its last change and deleted on the day after (beat task
# `application_drafts_expire_task`); its creator is e-mailed this many days before that day.
NSS_DRAFT_EXPIRY_DAYS = env.int("NSS_DRAFT_EXPIRY_DAYS", default=30)
NSS_DRAFT_EXPIRY_WARNING_DAYS = env.int("NSS_DRAFT_EXPIRY_WARNING_DAYS", default=5)

# LOGGING
# ------------------------------------------------------------------------------
# Structured logs: DJANGO_LOG_FORMAT=json gives one JSON object per line (production); "plain" is for people.
# The Celery worker and beat log through this too (nss_portal/celery.py), with the task id and the request id of the
# web request that queued the task.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "nss_portal.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task)s %(task_id)s] %(message)s"
        },
        "json": {"()": "nss_portal.request_id.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("DJANGO_LOG_FORMAT", default="json" if PRODUCTION else "plain"),
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # WeasyPrint (the ID notice's PDF) logs seven "Step n" lines per document at INFO; its warnings and errors stay.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}
