"""One frozen ``Settings``: environment (``JUMBE_*``) overridden by command-line flags.

Every field is documented where it is declared; README's configuration table mirrors this file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gateway.consent.purposes import MODES, PURPOSES, ConsentMode, Purpose
from gateway.errors import ConfigError
from gateway.text import Budget


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """The SMS outbox and its worker (``JUMBE_SMS_*``)."""

    worker: bool = True
    """Run the SMS outbox worker inside ``serve`` (``jumbe worker`` scales it separately)."""
    concurrency: int = 8
    """SMS sends in flight per worker (threads calling the synchronous AT SDK)."""
    rate_per_sender: int = 50
    """Sends per second per sender id, across all workers; 0 = unlimited."""
    max_attempts: int = 5
    """Tries before a message is dead-lettered with its last failure reason."""
    retry_base: float = 5.0
    """Seconds before the first retry; doubles per attempt, capped at 15 min."""
    claim_idle: float = 60.0
    """Seconds a claimed message may stay unacknowledged before another worker takes it over."""
    send_timeout: float = 10.0
    """Seconds the AT SDK may take per send (must stay below ``claim_idle``)."""
    max_segments: int = 6
    """Longest message accepted, in SMS segments (160/153 GSM-7, 70/67 UCS-2)."""
    sender_id: str | None = None
    """Sender id (short code or alphanumeric) for transactional SMS; ``None`` = AT's default."""
    promo_sender_id: str | None = None
    """Registered promotional sender id (domain C4); ``None`` = ``sender_id``."""
    worker_name: str | None = None
    """Stable consumer name of this worker (a restart resumes its own claims); default host:pid."""
    shards: int = 8
    """Hash tags (Redis Cluster slots) the outbox is spread over; the same in every process."""


@dataclass(frozen=True, slots=True)
class AfricasTalkingSettings:
    """Africa's Talking's API credentials (``JUMBE_AT_*``)."""

    username: str = "sandbox"
    api_key: str = field(default="", repr=False)
    base_url: str | None = None
    """Override Africa's Talking's API base (tests point it at the local fake)."""


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Who may call the ``/v1`` API (``JUMBE_API_TOKEN``, ``JUMBE_API_TOKENS_FILE``)."""

    token: str | None = field(default=None, repr=False)
    """Bearer token for the ``/v1`` API, every scope; ``None`` = the API answers 403."""
    tokens_file: Path | None = None
    """YAML file of named ``/v1`` tokens, each with its scopes (env only; format in
    ``gateway.http.auth`` and ``docs/api.md``); read when the app starts."""


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """How long records about subscribers are kept (``JUMBE_RETENTION_*``; docs/privacy.md)."""

    events_days: int = 30
    """End-of-session notifications, and entries of the inbound SMS and session-end streams."""
    messages_days: int = 30
    """Outbound SMS records (the only place a number is kept), after their final status."""

    @property
    def events_seconds(self) -> int:
        return self.events_days * 86400

    @property
    def messages_seconds(self) -> int:
        return self.messages_days * 86400


@dataclass(frozen=True, slots=True)
class RewardsSettings:
    """The points ledger and airtime fulfilment (``JUMBE_REWARDS_*``)."""

    worker: bool = True
    """Run the fulfilment worker (airtime, vouchers) and the daily jobs inside ``serve``."""
    expiry_months: int = 12
    """Earned points expire this many months later, at the end of that month; 0 = never."""
    tz: str = "Africa/Nairobi"
    """Time zone of months (expiry), days and months (caps, budget)."""
    max_airtime: float = 10_000.0
    """Largest airtime value one redemption may send (AT's minimum is KES 5)."""
    velocity: float = 300.0
    """Seconds between two airtime redemptions of one number (AT/Safaricom refuse sooner)."""
    daily_cap: float = 1000.0
    """Airtime value one number may get per day (in its currency); 0 = no cap."""
    monthly_cap: float = 5000.0
    """Airtime value one number may get per month; 0 = no cap."""
    daily_budget: float | None = None
    """Airtime value all numbers together may get per day (per currency); over it the breaker
    trips and refuses every redemption until the day ends. ``None`` = no budget (warned)."""
    send_timeout: float = 10.0
    """Seconds the AT SDK may take per airtime send."""
    recheck: float = 600.0
    """Seconds after a ``Sent`` answer before the job resends (same key) if no status callback
    has settled the redemption."""
    concurrency: int = 4
    """Fulfilment jobs in flight per worker."""
    claim_idle: float = 60.0
    """Seconds a claimed job may stay unsettled before another worker takes it over."""


@dataclass(frozen=True, slots=True)
class AdsSettings:
    """Balance-check ads (``JUMBE_ADS_*``, ``docs/ads.md``)."""

    deadline_ms: float = 50.0
    """Hard deadline of one ad decision; past it the balance text goes out unchanged."""
    per_day: int = 3
    """Ads per subscriber per local calendar day, all campaigns together (0 = no global cap);
    one ad per check always (the ``ad`` of ``POST /v1/piggyback`` is one)."""


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """The event feed for brand CRMs (``JUMBE_EVENT_FEED_*``; docs/api.md, "Event feed")."""

    url: str | None = None
    """Where events are POSTed; ``None`` = no feed (nothing is kept)."""
    secret: str | None = field(default=None, repr=False)
    """Signs every event (``X-Jumbe-Signature``); required with a URL."""
    timeout: float = 10.0
    """Seconds the CRM may take to answer one event."""
    retry_base: float = 2.0
    """Seconds before the first retry of a failed delivery; doubled each time, up to 15 min."""
    worker: bool = True
    """Deliver from this process (``serve``)."""


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """Lifecycle stage thresholds (``JUMBE_LIFECYCLE_*``; defaults from domain.md §1)."""

    active_days: int = 7
    loyal_weeks: int = 4
    """Active in at least this many of the last 8 weeks (and active now) = loyal."""
    lapsing_days: int = 30
    inactive_days: int = 60


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """SMS surveys (``JUMBE_SURVEY_*``); a survey file's ``channels.sms`` overrides the first
    two for itself."""

    expiry_hours: float = 48.0
    """Hours without a reply before an SMS respondent is ``unresponsive`` (Safaricom: 48 h)."""
    reminder_hours: float = 24.0
    """Hours after the last question before the one reminder (0: no reminder); a reminder due
    in quiet hours waits for them to end, and is dropped if that is past the expiry."""
    tick: float = 30.0
    """Seconds between looks at the SMS respondents due a reminder or expiry."""


SECTIONS = {
    "sms": SmsSettings,
    "at": AfricasTalkingSettings,
    "api": ApiSettings,
    "retention": RetentionSettings,
    "rewards": RewardsSettings,
    "ads": AdsSettings,
    "lifecycle": LifecycleSettings,
    "survey": SurveySettings,
    "feed": FeedSettings,
}
"""Settings sections, by the prefix of their flat names (``sms_worker`` is ``sms.worker``)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration of one gateway process."""

    menus_dir: Path = Path("menus")
    """The content folder (``JUMBE_MENUS``, ``--menus``): every brand file, searched recursively,
    each saying its ``kind:`` (menus, the keywords file, …; ``gateway.content``)."""
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None
    """Redis to use; ``None`` starts the embedded Redis under ``data_dir``."""
    redis_cluster: bool = False
    """Whether that Redis is a Cluster: detected at start-up from what the URL's node says
    (``store.connection.prepared_store``), never configured."""
    data_dir: Path = Path("var")
    """Where the embedded Redis persists (append-only file)."""
    session_ttl: int = 180
    """Seconds a USSD session lives after its last hop (AT/Safaricom cap a session at 180 s)."""
    hop_deadline: float = 5.0
    """Seconds a hop may take (lock waits and Redis included) before the subscriber gets an END."""
    callback_token: str | None = None
    """Secret the aggregator sends as the ``token`` query parameter; ``None`` = open (warned)."""
    allowed_ips: tuple[str, ...] = ()
    """Optional allow-list of callback source addresses (exact IPs); empty = any."""
    pseudonym_key: bytes = field(default=b"", repr=False)
    """HMAC key of subscriber pseudonyms (``JUMBE_PSEUDONYM_KEY``). Empty: ``serve`` takes the
    embedded data dir's key, or refuses to start with an external Redis
    (``gateway.store.identity``)."""
    log_format: str = "auto"
    """``json``, ``console`` or ``auto`` (console on a TTY, JSON otherwise)."""
    log_level: str = "info"
    admin_token: str | None = field(default=None, repr=False)
    """Bearer token for ``POST /admin/reload``; ``None`` = admin endpoints disabled."""
    webhook_secret: str | None = field(default=None, repr=False)
    """Signs webhook screens' calls (``X-Jumbe-Signature``); ``None`` = unsigned."""
    screen_limits: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: {"default": (160, 70), "63903": (182, 80)}
    )
    """Screen budget per network code (MCC+MNC) as (GSM-7 chars, UCS-2 chars): what the handset
    shows; a channel's own overhead (4 characters on Africa's Talking) is taken off it.
    Defaults: 160/70 (Safaricom's 160; UCS-2 at ~70), Airtel Kenya 182/80 (the 04.80 maximum)."""
    reload_interval: float = 1.0
    """Seconds between checks of the content folder for changes; 0 turns the watcher off."""
    funnel_idle_timeout: float = 25.0
    """Funnel reports: a session that ended "incomplete" after this many idle seconds timed
    out; sooner, the subscriber ended it (Africa's Talking does not say which)."""
    consent_modes: Mapping[Purpose, ConsentMode] = field(
        default_factory=lambda: dict.fromkeys(PURPOSES, "opt_in")
    )
    """Per marketing purpose: ``opt_in`` needs recorded consent (domain C1); ``opt_out`` sends
    unless the subscriber revoked it (``JUMBE_CONSENT_MODE`` and ``JUMBE_CONSENT_MODE_<PURPOSE>``).
    """
    sms: SmsSettings = field(default_factory=SmsSettings)
    at: AfricasTalkingSettings = field(default_factory=AfricasTalkingSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    rewards: RewardsSettings = field(default_factory=RewardsSettings)
    ads: AdsSettings = field(default_factory=AdsSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    survey: SurveySettings = field(default_factory=SurveySettings)
    feed: FeedSettings = field(default_factory=FeedSettings)

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with every non-``None`` override applied (flags beat environment).

        A section's settings are named flat, by the section's prefix: ``sms_worker=False`` sets
        ``sms.worker``, ``at_base_url=…`` sets ``at.base_url``."""
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        known = {f.name for f in fields(self)}
        for name, value in overrides.items():
            if value is None:
                continue
            section, _, rest = name.partition("_")
            if name in known and name not in SECTIONS:
                top[name] = value
            elif section in SECTIONS and rest in {f.name for f in fields(SECTIONS[section])}:
                nested.setdefault(section, {})[rest] = value
            else:
                raise ConfigError(f"unknown setting {name!r}")
        for section, values in nested.items():
            top[section] = replace(getattr(self, section), **values)
        return replace(self, **top)

    @property
    def strictest_budget(self) -> Budget:
        """The smallest screen among the configured networks (``channels.content_budget`` takes
        the channels' own overhead off it: that is what ``check`` measures against)."""
        return Budget(
            min(g for g, _ in self.screen_limits.values()),
            min(u for _, u in self.screen_limits.values()),
        )


RETIRED = {
    "JUMBE_SMS_KEYWORDS": "JUMBE_SMS_KEYWORDS is no longer read: move that file into the content"
    " folder (JUMBE_MENUS, default menus/), add `kind: keywords` at its top, and unset"
    " JUMBE_SMS_KEYWORDS",
}
"""Variables that used to mean something: ``serve`` refuses to start while one is set, rather
than quietly ignoring what the operator asked for."""


def refuse_retired(env: Mapping[str, str] | None = None) -> None:
    """``ConfigError`` (one line saying what to do instead) if a retired variable is set."""
    env = os.environ if env is None else env
    for name, instead in RETIRED.items():
        if name in env:
            raise ConfigError(instead)


def check_port(port: int, source: str) -> None:
    """``ConfigError`` unless ``port`` can be listened on (0 = any free port)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"{source} {port}: a port is a number from 1 to 65535")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None


def _screen_limits(raw: str) -> dict[str, tuple[int, int]]:
    """``"default=160/70,63903=182/80"`` → {network: (gsm7, ucs2)}; defaults fill the gaps."""
    limits = {"default": (160, 70), "63903": (182, 80)}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        network, _, pair = item.partition("=")
        gsm7, _, ucs2 = pair.partition("/")
        try:
            limits[network.strip()] = (int(gsm7), int(ucs2))
        except ValueError:
            raise ConfigError(
                f"JUMBE_SCREEN_LIMITS: {item!r} is not network=GSM7/UCS2, e.g. 63902=160/70"
            ) from None
        if (
            not 40 <= limits[network.strip()][0] <= 182
            or not 20 <= limits[network.strip()][1] <= 91
        ):
            raise ConfigError(f"JUMBE_SCREEN_LIMITS: {item!r} is outside 40-182 / 20-91")
    return limits


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``JUMBE_*`` variables (plain ``REDIS_URL`` is accepted too)."""
    env = os.environ if env is None else env
    log_format = env.get("JUMBE_LOG_FORMAT", "auto").lower()
    if log_format not in {"auto", "json", "console"}:
        raise ConfigError(f"JUMBE_LOG_FORMAT={log_format!r}: expected json, console or auto")
    port = _int(env, "JUMBE_PORT", 8000)
    check_port(port, "JUMBE_PORT")
    ttl = _int(env, "JUMBE_SESSION_TTL", 180)
    if ttl <= 0:
        raise ConfigError(f"JUMBE_SESSION_TTL={ttl}: must be positive")
    ips = tuple(ip.strip() for ip in env.get("JUMBE_ALLOWED_IPS", "").split(",") if ip.strip())
    return Settings(
        menus_dir=Path(env.get("JUMBE_MENUS", "menus")),
        host=env.get("JUMBE_HOST", "127.0.0.1"),
        port=port,
        redis_url=env.get("JUMBE_REDIS_URL") or env.get("REDIS_URL") or None,
        data_dir=Path(env.get("JUMBE_DATA_DIR", "var")),
        session_ttl=ttl,
        hop_deadline=_float(env, "JUMBE_HOP_DEADLINE", 5.0),
        callback_token=env.get("JUMBE_CALLBACK_TOKEN") or None,
        allowed_ips=ips,
        pseudonym_key=env.get("JUMBE_PSEUDONYM_KEY", "").encode(),
        log_format=log_format,
        log_level=env.get("JUMBE_LOG_LEVEL", "info").lower(),
        at=AfricasTalkingSettings(
            env.get("JUMBE_AT_USERNAME", "sandbox"),
            env.get("JUMBE_AT_API_KEY", ""),
            env.get("JUMBE_AT_BASE_URL") or None,
        ),
        admin_token=env.get("JUMBE_ADMIN_TOKEN") or None,
        api=ApiSettings(
            env.get("JUMBE_API_TOKEN") or None,
            Path(env["JUMBE_API_TOKENS_FILE"]) if env.get("JUMBE_API_TOKENS_FILE") else None,
        ),
        webhook_secret=env.get("JUMBE_WEBHOOK_SECRET") or None,
        screen_limits=_screen_limits(env.get("JUMBE_SCREEN_LIMITS", "")),
        reload_interval=_float(env, "JUMBE_RELOAD_INTERVAL", 1.0),
        funnel_idle_timeout=_float(env, "JUMBE_FUNNEL_IDLE_TIMEOUT", 25.0),
        consent_modes=consent_modes_from_env(env),
        sms=_sms_from_env(env),
        retention=RetentionSettings(
            _days(env, "JUMBE_RETENTION_EVENTS_DAYS", 30),
            _days(env, "JUMBE_RETENTION_MESSAGES_DAYS", 30),
        ),
        rewards=_rewards_from_env(env),
        ads=_ads_from_env(env),
        lifecycle=_lifecycle_from_env(env),
        survey=_survey_from_env(env),
        feed=_feed_from_env(env),
    )


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    days = _int(env, name, default)
    if not 1 <= days <= 3660:
        raise ConfigError(f"{name}={days}: expected a number of days from 1 to 3660")
    return days


def _mode(env: Mapping[str, str], name: str) -> ConsentMode | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    for mode in MODES:
        if raw == mode:
            return mode
    raise ConfigError(f"{name}={raw!r}: expected opt_in or opt_out")


def consent_modes_from_env(env: Mapping[str, str]) -> dict[Purpose, ConsentMode]:
    """``JUMBE_CONSENT_MODE`` for every purpose, overridden per purpose by
    ``JUMBE_CONSENT_MODE_PROMO_SMS|_ADS|_SURVEYS``; ``JUMBE_SMS_CONSENT_MODE`` is an alias of
    the first (conflicting values are an error, not a silent choice)."""
    default = _mode(env, "JUMBE_CONSENT_MODE") or "opt_in"
    modes: dict[Purpose, ConsentMode] = dict.fromkeys(PURPOSES, default)
    for purpose in PURPOSES:
        name = f"JUMBE_CONSENT_MODE_{purpose.upper()}"
        specific = _mode(env, name)
        if purpose == "promo_sms":
            alias = _mode(env, "JUMBE_SMS_CONSENT_MODE")
            if alias is not None and specific is not None and alias != specific:
                raise ConfigError(
                    f"JUMBE_SMS_CONSENT_MODE={alias} contradicts {name}={specific} "
                    "(the first is an old alias of the second; set only one)"
                )
            specific = specific or alias
        if specific is not None:
            modes[purpose] = specific
    return modes


def _sms_from_env(env: Mapping[str, str]) -> SmsSettings:
    """The ``JUMBE_SMS_*`` settings."""
    worker = env.get("JUMBE_SMS_WORKER", "1").lower()
    if worker not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"JUMBE_SMS_WORKER={worker!r}: expected 1 or 0")
    sms = SmsSettings(
        worker=worker in {"1", "true", "yes"},
        concurrency=_int(env, "JUMBE_SMS_CONCURRENCY", 8),
        rate_per_sender=_int(env, "JUMBE_SMS_RATE_PER_SENDER", 50),
        max_attempts=_int(env, "JUMBE_SMS_MAX_ATTEMPTS", 5),
        retry_base=_float(env, "JUMBE_SMS_RETRY_BASE", 5.0),
        claim_idle=_float(env, "JUMBE_SMS_CLAIM_IDLE", 60.0),
        send_timeout=_float(env, "JUMBE_SMS_SEND_TIMEOUT", 10.0),
        max_segments=_int(env, "JUMBE_SMS_MAX_SEGMENTS", 6),
        sender_id=env.get("JUMBE_SMS_SENDER_ID") or None,
        promo_sender_id=env.get("JUMBE_SMS_PROMO_SENDER_ID") or None,
        worker_name=env.get("JUMBE_SMS_WORKER_NAME") or None,
        shards=_int(env, "JUMBE_SMS_SHARDS", 8),
    )
    for name in ("concurrency", "max_attempts", "max_segments", "shards"):
        if getattr(sms, name) <= 0:
            raise ConfigError(f"JUMBE_SMS_{name.upper()}={getattr(sms, name)}: must be positive")
    if sms.send_timeout >= sms.claim_idle:
        raise ConfigError("JUMBE_SMS_SEND_TIMEOUT must be below JUMBE_SMS_CLAIM_IDLE")
    return sms


def _rewards_from_env(env: Mapping[str, str]) -> RewardsSettings:
    """The ``JUMBE_REWARDS_*`` settings."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    worker = env.get("JUMBE_REWARDS_WORKER", "1").lower()
    if worker not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"JUMBE_REWARDS_WORKER={worker!r}: expected 1 or 0")
    budget = env.get("JUMBE_REWARDS_DAILY_BUDGET", "").strip()
    rewards = RewardsSettings(
        worker=worker in {"1", "true", "yes"},
        expiry_months=_int(env, "JUMBE_REWARDS_EXPIRY_MONTHS", 12),
        tz=env.get("JUMBE_REWARDS_TZ") or "Africa/Nairobi",
        max_airtime=_float(env, "JUMBE_REWARDS_MAX_AIRTIME", 10_000.0),
        velocity=_float(env, "JUMBE_REWARDS_VELOCITY", 300.0),
        daily_cap=_float(env, "JUMBE_REWARDS_DAILY_CAP", 1000.0),
        monthly_cap=_float(env, "JUMBE_REWARDS_MONTHLY_CAP", 5000.0),
        daily_budget=_float(env, "JUMBE_REWARDS_DAILY_BUDGET", 0.0) if budget else None,
        send_timeout=_float(env, "JUMBE_REWARDS_SEND_TIMEOUT", 10.0),
        recheck=_float(env, "JUMBE_REWARDS_RECHECK", 600.0),
        concurrency=_int(env, "JUMBE_REWARDS_CONCURRENCY", 4),
        claim_idle=_float(env, "JUMBE_REWARDS_CLAIM_IDLE", 60.0),
    )
    try:
        ZoneInfo(rewards.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"JUMBE_REWARDS_TZ={rewards.tz!r}: not a time zone") from None
    for name in ("expiry_months", "max_airtime", "velocity", "daily_cap", "monthly_cap"):
        if getattr(rewards, name) < 0:
            raise ConfigError(f"JUMBE_REWARDS_{name.upper()}: must not be negative")
    if rewards.daily_budget is not None and rewards.daily_budget < 0:
        raise ConfigError("JUMBE_REWARDS_DAILY_BUDGET: must not be negative")
    if rewards.concurrency <= 0:
        raise ConfigError("JUMBE_REWARDS_CONCURRENCY: must be positive")
    if rewards.send_timeout >= rewards.claim_idle:
        raise ConfigError("JUMBE_REWARDS_SEND_TIMEOUT must be below JUMBE_REWARDS_CLAIM_IDLE")
    return rewards


def _ads_from_env(env: Mapping[str, str]) -> AdsSettings:
    """The ``JUMBE_ADS_*`` settings."""
    ads = AdsSettings(
        deadline_ms=_float(env, "JUMBE_ADS_DEADLINE_MS", 50.0),
        per_day=_int(env, "JUMBE_ADS_PER_DAY", 3),
    )
    if not 1 <= ads.deadline_ms <= 5000:
        raise ConfigError(f"JUMBE_ADS_DEADLINE_MS={ads.deadline_ms}: expected 1 to 5000")
    if ads.per_day < 0:
        raise ConfigError(f"JUMBE_ADS_PER_DAY={ads.per_day}: must be 0 (no cap) or more")
    return ads


def _lifecycle_from_env(env: Mapping[str, str]) -> LifecycleSettings:
    """The ``JUMBE_LIFECYCLE_*`` settings (days, and weeks of the last 8 for loyal)."""
    lc = LifecycleSettings(
        active_days=_int(env, "JUMBE_LIFECYCLE_ACTIVE_DAYS", 7),
        loyal_weeks=_int(env, "JUMBE_LIFECYCLE_LOYAL_WEEKS", 4),
        lapsing_days=_int(env, "JUMBE_LIFECYCLE_LAPSING_DAYS", 30),
        inactive_days=_int(env, "JUMBE_LIFECYCLE_INACTIVE_DAYS", 60),
    )
    if not 0 < lc.active_days <= lc.lapsing_days < lc.inactive_days:
        raise ConfigError(
            "JUMBE_LIFECYCLE_*: expected 0 < ACTIVE_DAYS <= LAPSING_DAYS < INACTIVE_DAYS"
        )
    if not 1 <= lc.loyal_weeks <= 8:
        raise ConfigError(f"JUMBE_LIFECYCLE_LOYAL_WEEKS={lc.loyal_weeks}: expected 1 to 8")
    return lc


def _feed_from_env(env: Mapping[str, str]) -> FeedSettings:
    """``JUMBE_EVENT_FEED_URL`` (http or https), ``_SECRET`` (required with a URL, at least 16
    characters), ``_TIMEOUT``."""
    url = env.get("JUMBE_EVENT_FEED_URL", "").strip() or None
    secret = env.get("JUMBE_EVENT_FEED_SECRET", "") or None
    feed = FeedSettings(url, secret, _float(env, "JUMBE_EVENT_FEED_TIMEOUT", 10.0),
                        _float(env, "JUMBE_EVENT_FEED_RETRY_BASE", 2.0))  # fmt: skip
    if url is None:
        return feed
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"JUMBE_EVENT_FEED_URL={url[:64]!r}: expected an http:// or https:// URL")
    if secret is None or len(secret) < 16:
        raise ConfigError(
            "JUMBE_EVENT_FEED_SECRET: required with JUMBE_EVENT_FEED_URL, at least 16 characters "
            "(the CRM checks X-Jumbe-Signature with it)"
        )
    if not 0 < feed.timeout <= 60:
        raise ConfigError(f"JUMBE_EVENT_FEED_TIMEOUT={feed.timeout}: expected 0 to 60 seconds")
    return feed


def _survey_from_env(env: Mapping[str, str]) -> SurveySettings:
    """The ``JUMBE_SURVEY_*`` settings."""
    survey = SurveySettings(
        expiry_hours=_float(env, "JUMBE_SURVEY_EXPIRY_HOURS", 48.0),
        reminder_hours=_float(env, "JUMBE_SURVEY_REMINDER_HOURS", 24.0),
        tick=_float(env, "JUMBE_SURVEY_TICK", 30.0),
    )
    if survey.expiry_hours <= 0 or survey.tick <= 0 or survey.reminder_hours < 0:
        raise ConfigError("JUMBE_SURVEY_EXPIRY_HOURS and JUMBE_SURVEY_TICK must be positive, "
                          "JUMBE_SURVEY_REMINDER_HOURS 0 or more")  # fmt: skip
    return survey
