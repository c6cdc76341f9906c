"""Read config.toml and the environment into one typed, validated settings object."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# The interface languages (newsticker.core.i18n.LANGUAGES names each in itself).
InterfaceLanguage = Literal["de", "en", "ar", "fa", "uk", "tr"]

CONFIG_ENV = "NEWSTICKER_CONFIG"
DEFAULT_CONFIG_PATH = "config.toml"

# Environment variables that override single keys of the file (SPEC: public interface).
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "NEWSTICKER_DATABASE_URL": ("database", "url"),
    "NEWSTICKER_SMTP_HOST": ("smtp", "host"),
    "NEWSTICKER_SMTP_PORT": ("smtp", "port"),
    "NEWSTICKER_BASE_URL": ("site", "base_url"),
    "NEWSTICKER_SECRET_KEY": ("site", "secret_key"),
}

SECRET_KEYS = {
    "secret_key",
    "old_secret_keys",
    "password",
    "dkim_private_key",
    "imap_password",
    "client_secret",
}


class ConfigError(Exception):
    """The configuration cannot be used; the message names file, key and expectation."""


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"an IANA time zone such as 'Europe/Berlin', got {value!r}") from exc
    return value


def _check_rate(value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"a rate such as '10 per hour', got {value!r}") from exc
    return value


MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal text
_HEX_COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def colour_channels(colour: str) -> tuple[int, int, int]:
    """Return the red, green and blue of a #rrggbb colour."""
    if not _HEX_COLOUR_RE.fullmatch(colour):
        raise ValueError(f"a colour written as #rrggbb such as '#004b87', got {colour!r}")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def contrast_with_white(colour: str) -> float:
    """Return the WCAG contrast ratio of white text on a #rrggbb background."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in colour_channels(colour))
    return 1.05 / (0.2126 * red + 0.7152 * green + 0.0722 * blue + 0.05)


def _check_main_colour(value: str) -> str:
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST:
        raise ValueError(
            f"a main colour dark enough for white text on it: {value} has a contrast of "
            f"{ratio:.2f}:1 with white, WCAG AA asks for at least {MIN_CONTRAST}:1 "
            "(choose a darker shade)"
        )
    return value.lower()


def _check_image_file(value: str) -> str:
    if not value:
        return value
    suffixes = (".png", ".svg", ".jpg", ".jpeg", ".webp", ".ico")
    if not value.lower().endswith(suffixes):
        raise ValueError(f"an image file ending in {', '.join(suffixes)}, got {value!r}")
    if not Path(value).is_file():
        raise ValueError(f"an existing image file, but there is no file {value!r}")
    return value


def _check_greeting(value: str) -> str:
    if "\n" in value or "\r" in value or len(value) > 200:
        raise ValueError(f"one line of at most 200 characters, got {value!r}")
    return value.strip()


SectionName = Literal["events", "announcements", "calls", "articles", "figures"]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
Rate = Annotated[str, AfterValidator(_check_rate)]
MainColour = Annotated[str, AfterValidator(_check_main_colour)]
ImageFile = Annotated[str, AfterValidator(_check_image_file)]


class Section(BaseModel):
    """Forbid unknown keys everywhere: a typo must stop start-up, not be ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSettings(Section):
    name: str = "Newsticker Flensburg"
    base_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""
    old_secret_keys: list[str] = Field(default_factory=list)
    production: bool = False
    timezone: TimeZoneName = "Europe/Berlin"
    default_language: InterfaceLanguage = "de"
    instance_path: str = "instance"
    privacy_url: str = ""
    imprint_url: str = ""
    proxy_count: int = Field(default=0, ge=0, le=5)
    # The city's look: white text on the main colour in the site's header and every mail.
    colour: MainColour = "#004b87"
    logo: ImageFile = ""
    logo_alt: str = ""
    favicon: ImageFile = ""
    # How far ahead the public list of events ("upcoming") reaches, in days.
    upcoming_days: int = Field(default=90, ge=7, le=366)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")


class DatabaseSettings(Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"a database URL such as 'sqlite:///instance/newsticker.db' or "
                f"'postgresql+psycopg://user@host/db', got {value!r}"
            ) from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"a SQLite or PostgreSQL URL, got backend {url.get_backend_name()!r}")
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return value


class SmtpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    tls: Literal["none", "starttls", "ssl"] = "none"
    user: str = ""
    password: str = ""
    timeout: float = Field(default=30.0, gt=0)


class MailSettings(Section):
    sender: str = "Newsticker Flensburg <newsticker@flensburg.example>"
    reply_to: str = "integration@flensburg.example"
    imprint: list[str] = Field(
        default_factory=lambda: [
            "Stadt Flensburg · Stabsstelle Integration",
            "Rathausplatz 1, 24937 Flensburg",
        ]
    )
    return_path: str = ""
    feedback_id_sender: str = "newsticker"
    dkim_selector: str = ""
    dkim_domain: str = ""
    dkim_private_key: str = ""
    max_attempts: int = Field(default=8, ge=1, le=50)


class CatcherSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    maildir: str = "catcher"


class PublicationSettings(Section):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name: str
    cadence: Literal["weekly", "monthly", "quarterly"] = "weekly"
    send_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "thu"
    send_time: time = time(10, 0)
    sections: list[SectionName] = Field(
        default_factory=lambda: list[SectionName](["events", "announcements", "calls"])
    )
    also_send_to: list[str] = Field(default_factory=list)
    # One text, or one per language: description = {de = "…", en = "…"}.
    description: str | dict[InterfaceLanguage, str] = ""

    def description_in(self, language: str) -> str:
        """Return the description in a language (German, then any, when it lacks one)."""
        if isinstance(self.description, str):
            return self.description
        texts: dict[str, str] = {str(k): v for k, v in self.description.items()}
        return texts.get(language) or texts.get("de") or next(iter(texts.values()), "")

    # The one salutation of an issue: a new draft's editorial starts with it ("" for none).
    greeting: Annotated[str, AfterValidator(_check_greeting)] = "Liebe Leserinnen und Leser,"


def _default_publications() -> list[PublicationSettings]:
    return [
        PublicationSettings(
            slug="ticker",
            name="Newsticker Engagement & Zusammenleben",
            cadence="weekly",
            send_weekday="thu",
            send_time=time(10, 0),
            sections=["events", "announcements", "calls"],
            description={
                "de": "Jede Woche: Veranstaltungen, Angebote und Aufrufe zum Mitmachen.",
                "en": "Every week: events, offers and calls to take part.",
            },
        ),
        PublicationSettings(
            slug="newsletter",
            name="Integration in Flensburg",
            cadence="quarterly",
            send_weekday="thu",
            send_time=time(10, 0),
            sections=["articles", "figures", "events"],
            also_send_to=["ticker"],
            description={
                "de": "Vierteljährlich: Berichte sowie Zahlen, Daten, Fakten zur Integration.",
                "en": "Quarterly: reports, facts and figures on integration.",
            },
        ),
    ]


class RateLimitSettings(Section):
    storage_uri: str = "memory://"
    login_per_ip: Rate = "20 per 15 minutes"
    login_per_account: Rate = "5 per 15 minutes"
    submit_per_ip: Rate = "10 per hour"
    subscribe_per_ip: Rate = "20 per hour"
    token_pages_per_ip: Rate = "60 per minute"  # noqa: S105 (a rate, not a password)
    password_reset_per_ip: Rate = "10 per hour"  # noqa: S105 (a rate)
    password_reset_per_address: Rate = "3 per hour"  # noqa: S105 (a rate)
    second_factor_per_account: Rate = "10 per 15 minutes"
    confirmation_mails_per_address_hours: int = Field(default=24, ge=1)
    min_fill_seconds: float = Field(default=3.0, ge=0)


class RetentionSettings(Section):
    pending_signup_days: int = Field(default=7, ge=1)
    mail_queue_days: int = Field(default=30, ge=1)
    rejected_item_days: int = Field(default=180, ge=1)
    delivery_record_days: int = Field(default=90, ge=1)
    audit_days: int = Field(default=730, ge=30)
    # After a subscription ends; while it lasts the proof is always kept.
    consent_proof_years: int = Field(default=3, ge=1, le=30)
    bounce_run_days: int = Field(default=180, ge=7, le=3650)


class DeliverySettings(Section):
    messages_per_second: float = Field(default=50.0, gt=0)
    messages_per_hour: int = Field(default=100_000, ge=1)
    connections: int = Field(default=2, ge=1, le=32)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    lease_seconds: int = Field(default=300, ge=10)
    retry_attempts: int = Field(default=5, ge=1, le=50)
    retry_delay_seconds: float = Field(default=60.0, ge=0, le=86_400)
    failure_pause_threshold: int = Field(default=50, ge=1)
    max_html_bytes: int = Field(default=95 * 1024, ge=10_000)
    # Off when `newsticker worker` processes send: the scheduler then only starts sends.
    scheduler_sends: bool = True


class ScheduleSettings(Section):
    draft_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    draft_time: time = time(8, 0)
    reminder_time: time = time(9, 0)
    poll_seconds: int = Field(default=60, ge=5)
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    bounce_maildir: str = ""


class SubscriberSettings(Section):
    confirmation_link_hours: int = Field(default=48, ge=1, le=24 * 30)


def _check_folder(value: str) -> str:
    # One folder name for Maildir++ (".Quarantine") and IMAP alike: no hierarchy, no dots
    # that would make it a subfolder, nothing a shell or an IMAP command would misread.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,59}", value):
        raise ValueError(
            f"a folder name of letters, digits, spaces, '-' and '_' (at most 60), got {value!r}"
        )
    return value


def _check_optional_address(value: str) -> str:
    if not value:
        return value
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(
            f"an e-mail address such as 'abmelden@example.org', got {value!r}"
        ) from exc
    return value


class BounceSettings(Section):
    hard_threshold: int = Field(default=1, ge=1, le=100)
    # At least two: a single soft bounce (a full mailbox, a block list) never takes anybody off.
    soft_threshold: int = Field(default=5, ge=2, le=1000)
    soft_window_days: int = Field(default=30, ge=1, le=365)
    imap_host: str = ""
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_tls: Literal["none", "starttls", "ssl"] = "ssl"
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    quarantine_folder: Annotated[str, AfterValidator(_check_folder)] = "Quarantine"
    # Delivered into the bounce mailbox; List-Unsubscribe offers it as mailto (RFC 2369).
    unsubscribe_address: Annotated[str, AfterValidator(_check_optional_address)] = ""


def _check_issuer(value: str) -> str:
    if not value:
        return value
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"the issuer URL such as 'https://login.example.org/realms/city', got {value!r}"
        )
    return value


class OidcSettings(Section):
    # Empty issuer: single sign-on is off.
    issuer: Annotated[str, AfterValidator(_check_issuer)] = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    # The button on the login page ("Log in with the city's account").
    button_label: str = ""
    # The claim that lists a person's groups or roles, and which value gives which role;
    # someone with no mapped value is refused.
    role_claim: str = "groups"
    role_mapping: dict[str, Literal["admin", "editor"]] = Field(default_factory=dict)
    # Create an account at the first login of a person with a mapped role.
    create_accounts: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def enabled(self) -> bool:
        """Return whether single sign-on is configured."""
        return bool(self.issuer)

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        if self.issuer and not (self.client_id and self.client_secret):
            raise ValueError("oidc needs client_id and client_secret when issuer is set")
        if self.issuer and not self.role_mapping:
            raise ValueError("oidc needs a role_mapping (claim value = 'admin' or 'editor')")
        if self.issuer and "openid" not in self.scopes:
            raise ValueError("oidc scopes must include 'openid'")
        return self


class AuthSettings(Section):
    # Administrators without two-factor login are sent to set it up after login.
    require_2fa_for_admins: bool = False
    # false: only single sign-on (auth.oidc must be configured).
    local_login: bool = True
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    @model_validator(mode="after")
    def _some_login(self) -> AuthSettings:
        if not self.local_login and not self.oidc.enabled:
            raise ValueError("local_login = false needs single sign-on ([auth.oidc] issuer)")
        return self


def _check_origin(value: str) -> str:
    # An origin as frame-ancestors and CORS compare it: scheme, host and port, nothing else
    # (a path, a wildcard or a quote would widen or break the policy).
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", value):
        raise ValueError(
            f"an origin such as 'https://www.flensburg.de' (no path, no wildcard), got {value!r}"
        )
    return value.lower()


Origin = Annotated[str, AfterValidator(_check_origin)]


class EmbedSettings(Section):
    # Sites that may show /embed/ pages in a frame; every other page refuses all framing.
    allowed_origins: list[Origin] = Field(default_factory=list)


class FeedSettings(Section):
    # What the iCal and Atom feeds cover: events ended up to past_days ago and starting
    # within future_days, at most max_entries of them (bounded work per build).
    past_days: int = Field(default=30, ge=0, le=366)
    future_days: int = Field(default=365, ge=1, le=3660)
    max_entries: int = Field(default=1000, ge=1, le=10_000)


class WebhookSettings(Section):
    # Plain http:// endpoints only on a loopback address, and only when this is on.
    allow_http_loopback: bool = False
    max_attempts: int = Field(default=8, ge=1, le=30)
    retry_base_seconds: float = Field(default=30.0, ge=0, le=86_400)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    poll_seconds: int = Field(default=15, ge=1, le=3600)


class TranslatorSettings(Section):
    # How long a translator's private link works, in days.
    link_days: int = Field(default=14, ge=1, le=90)


class Settings(Section):
    site: SiteSettings = Field(default_factory=SiteSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    catcher: CatcherSettings = Field(default_factory=CatcherSettings)
    publications: list[PublicationSettings] = Field(default_factory=_default_publications)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    subscribers: SubscriberSettings = Field(default_factory=SubscriberSettings)
    bounces: BounceSettings = Field(default_factory=BounceSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    translators: TranslatorSettings = Field(default_factory=TranslatorSettings)

    @model_validator(mode="after")
    def _publications_consistent(self) -> Settings:
        slugs = [p.slug for p in self.publications]
        if len(set(slugs)) != len(slugs):
            raise ValueError("publication slugs must be unique")
        for pub in self.publications:
            for other in pub.also_send_to:
                if other not in slugs or other == pub.slug:
                    raise ValueError(
                        f"publication {pub.slug!r}: also_send_to names {other!r}, "
                        f"expected one of the other slugs {slugs}"
                    )
        return self

    @property
    def tz(self) -> ZoneInfo:
        """Return the site's time zone."""
        return ZoneInfo(self.site.timezone)

    @property
    def instance_dir(self) -> Path:
        """Return the absolute instance folder (secret key, SQLite file, caught mails)."""
        return Path(self.site.instance_path).resolve()

    @property
    def database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file in the instance folder."""
        return self.database.url or f"sqlite:///{self.instance_dir / 'newsticker.db'}"

    def publication(self, slug: str) -> PublicationSettings | None:
        """Return the publication with this slug, or None."""
        return next((p for p in self.publications if p.slug == slug), None)

    def masked(self) -> dict[str, Any]:
        """Return the effective settings as a dict with secrets masked."""
        masked: dict[str, Any] = _mask(self.model_dump(mode="json"))
        return masked


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if key in SECRET_KEYS and value:
        return "********"
    return value


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (check the spelling against config.example.toml)")
        elif err["type"] == "missing":
            lines.append(f"  {key}: required value is missing")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            message = err["msg"]
            for prefix in ("Value error, ", "Input should be "):
                message = message.removeprefix(prefix)
            lines.append(f"  {key}: expected {message}{shown}")
    return "\n".join(lines)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Load settings from a TOML file, then the environment, then explicit overrides."""
    env = os.environ if environ is None else environ
    explicit = path is not None or CONFIG_ENV in env
    config_path = Path(path if path is not None else env.get(CONFIG_ENV, DEFAULT_CONFIG_PATH))
    data: dict[str, Any] = {}
    source = str(config_path)
    if config_path.is_file():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    elif explicit:
        raise ConfigError(f"{source}: configuration file not found")
    else:
        source = "built-in defaults"
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            data.setdefault(section, {})
            if not isinstance(data[section], dict):
                raise ConfigError(f"{source}: [{section}] must be a table")
            data[section][key] = env[var]
            source_note = f"{source} (with {var} from the environment)"
            source = source_note if var not in source else source
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})[key] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from exc


def get_settings() -> Settings:
    """Return the settings of the current Flask app."""
    from flask import current_app

    settings: Settings = current_app.config["NEWSTICKER_SETTINGS"]
    return settings
