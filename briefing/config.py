"""The TOML config file: SMTP settings and named profiles (what to brief, for whom, when).

Where the file is: ``--config FILE``, else ``$BRIEFING_CONFIG``, else
``$XDG_CONFIG_HOME/briefing/config.toml`` (``~/.config/briefing/config.toml``).

Precedence: flags > environment (``BRIEFING_SMTP_HOST``, ``_PORT``, ``_SECURITY``,
``_USER``, ``_FROM``, ``BRIEFING_LEDGER``) > config file > defaults. The SMTP password
is read from ``BRIEFING_SMTP_PASSWORD`` only, never from the file or the command line.

A bad file gives one :class:`~briefing.errors.ConfigError` naming the key, e.g.
``config.toml: profiles.morning.send_time: expected HH:MM, got '25:00'``.

Example::

    ledger = "~/.local/state/briefing/deliveries.sqlite3"   # optional

    [smtp]
    host = "smtp.example.com"
    port = 587                    # default: 587 starttls, 465 tls, 25 none
    security = "starttls"         # or "tls" (implicit TLS) or "none" (loopback only)
    user = "brief@example.com"
    from = "Morning Brief <brief@example.com>"

    [profiles.morning]
    sources = ["~/news/inbox", "https://example.com/world.rss"]
    regions = ["Europe", "Middle East & North Africa"]   # default: all
    language = "en"
    recipients = ["alice@example.com"]
    bcc = ["bob@example.com"]
    send_time = "06:30"
    timezone = "Europe/Berlin"
    days = ["mon", "tue", "wed", "thu", "fri"]            # default: every day
    formats = ["html", "pdf"]
    # chat channels and webhooks (Apprise URLs); secrets only from the environment
    channels = [
        "env:BRIEFING_SLACK_URL",
        "ntfy://ntfy.example.com/morning-brief",
        { url = "https://hooks.example.com/brief", secret = "env:BRIEFING_HOOK_SECRET" },
    ]
    brief_url = "https://news.example.com/brief-{date}.pdf"   # linked from chat messages

    [channels]                    # optional: how channel messages are sent
    attempts = 4                  # per message on 5xx, 429 and refused connections
    backoff = 2.0                 # first wait, seconds; doubles each time (at most 60 s)
    timeout = 30.0
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from briefing.errors import ConfigError
from briefing.models import Briefing, Region
from briefing.zones import zone

if TYPE_CHECKING:
    from briefing.deliver.smtp import SmtpSettings
    from briefing.request import BriefRequest, Outputs
    from briefing.settings import ModelSettings, RunSettings

__all__ = [
    "PASSWORD_ENV",
    "ChannelEntry",
    "ChannelOptions",
    "Config",
    "Profile",
    "SmtpConfig",
    "WebhookChannel",
    "config_path",
    "default_ledger_path",
    "describe_validation_error",
    "ledger_path",
    "load_config",
    "sender_address",
    "smtp_settings",
    "validate_address",
]

PASSWORD_ENV = "BRIEFING_SMTP_PASSWORD"
Format = Literal["md", "html", "pdf", "json"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DEFAULT_FORMATS: tuple[Format, ...] = ("html", "pdf")
Security = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}

# --------------------------------------------------------------------------- addresses

_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def validate_address(value: str, *, allow_name: bool = True) -> str:
    """``value`` as one clean address (``Name <a@b.c>`` or ``a@b.c``), or ``ValueError``.

    Refuses anything that could smuggle a second address or a header: CR/LF and other
    control characters, several addresses, quoted or odd local parts, bad domains.
    International domain names are converted to their ASCII (IDNA) form.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"control characters are not allowed in an address: {value!r}")
    if len(getaddresses([value])) != 1:
        raise ValueError(f"expected one address, got {value!r}")
    name, addr = parseaddr(value)
    if not addr or addr.count("@") != 1 or addr not in value:  # parseaddr drops spaces
        raise ValueError(f"not an email address: {value!r}")
    local, domain = addr.rsplit("@", 1)
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as e:
        raise ValueError(f"bad domain in {value!r}") from e
    labels = domain.split(".")
    if not _LOCAL.match(local) or ".." in local or local.startswith(".") or local.endswith("."):
        raise ValueError(f"not an email address: {value!r}")
    if len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"bad domain in {value!r}")
    addr = f"{local}@{domain.lower()}"
    if name and allow_name:
        from email.utils import formataddr

        return formataddr((" ".join(name.split()), addr))
    return addr


#: one validated address (a list of them reports the bad item's index)
Address = Annotated[str, AfterValidator(validate_address)]


# --------------------------------------------------------------------------- models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SmtpConfig(_Strict):
    """``[smtp]``: the outgoing mail server. The password comes from the environment."""

    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = "starttls"
    user: str | None = None
    from_: str | None = Field(default=None, alias="from")
    timeout: float = Field(default=30.0, gt=0)
    #: a CA bundle (PEM) to trust instead of the system's, for a private relay
    ca_file: Path | None = None
    #: attempts per recipient on transient errors (4xx, dropped connections)
    attempts: int = Field(default=4, ge=1, le=20)
    #: first wait between attempts, seconds (doubles each time, at most 60 s)
    backoff: float = Field(default=2.0, ge=0)

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str | None) -> str | None:
        return None if value is None else validate_address(value)


_ENV_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
_URL_FORM = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")


def _channel_url(value: object, where: str) -> str:
    """A channel URL or ``env:NAME``; the message never repeats the value (a token)."""
    text = value.strip() if isinstance(value, str) else ""
    if _ENV_REF.match(text) or _URL_FORM.match(text):
        return text
    raise ValueError(
        f"{where}: expected a channel URL (e.g. 'slack://...', 'ntfy://host/topic') or "
        "'env:NAME' naming the environment variable that holds it"
    )


class WebhookChannel(_Strict):
    """A channel as a table: ``{ url = "...", secret = "env:NAME" }`` (the secret signs
    webhook bodies with an HMAC header)."""

    url: str
    secret: str | None = None


#: ``"slack://..."``, ``"env:NAME"`` or ``{ url = ..., secret = "env:NAME" }``
ChannelEntry = str | WebhookChannel


def _channel_entry(item: object, i: int) -> ChannelEntry:
    where = f"[{i}]"
    if isinstance(item, WebhookChannel):
        return item
    if not isinstance(item, dict):
        return _channel_url(item, where)
    unknown = sorted(set(item) - {"url", "secret"})
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key (a channel table has url, secret)")
    if "url" not in item:
        raise ValueError(f"{where}.url: missing")
    secret = item.get("secret")
    if secret is not None and not (isinstance(secret, str) and _ENV_REF.match(secret.strip())):
        raise ValueError(
            f"{where}.secret: a secret is never read from the config file: "
            "write 'env:NAME' and export NAME"
        )
    return WebhookChannel(
        url=_channel_url(item["url"], f"{where}.url"),
        secret=secret.strip() if isinstance(secret, str) else None,
    )


class ChannelOptions(_Strict):
    """``[channels]``: how chat and webhook messages are sent (every profile)."""

    #: attempts per message on 5xx, 429 and refused connections (never on 4xx)
    attempts: int = Field(default=4, ge=1, le=20)
    #: first wait between attempts, seconds (doubles each time, at most 60 s)
    backoff: float = Field(default=2.0, ge=0)
    timeout: float = Field(default=30.0, gt=0)


class Profile(_Strict):
    """``[profiles.NAME]``: one brief, who gets it and when."""

    name: str = ""  #: filled from the table name
    sources: list[str] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    #: regions to keep, in the brief's order; empty keeps all
    regions: list[Region] = Field(default_factory=list)
    #: the brief's language (``Content-Language`` of the mail); BCP 47, e.g. ``en``, ``pt-BR``
    language: str = "en"
    recipients: list[Address] = Field(default_factory=list)
    bcc: list[Address] = Field(default_factory=list)
    send_time: dt.time = dt.time(6, 30)
    timezone: str = "UTC"
    days: list[Day] = Field(default_factory=lambda: list(DAYS))
    formats: list[Format] = Field(default_factory=lambda: list(_DEFAULT_FORMATS))
    #: where ``briefing brief --profile`` writes ``brief-DATE.EXT`` files (default: print)
    output_dir: Path | None = None
    #: the brief's title and the subject's first part (default: "Morning brief")
    title: str | None = None
    #: how late (seconds) a scheduled run may still start after a missed time
    misfire_grace: int = Field(default=3600, ge=1)
    #: chat channels and webhooks (Apprise URLs, ``env:NAME``, or tables with a secret)
    channels: list[ChannelEntry] = Field(default_factory=list)
    #: the full brief's address, linked from chat messages; ``{date}`` becomes YYYY-MM-DD
    brief_url: str | None = None
    #: keep each brief as an edition and compare it with the last days' (``briefing.editions``)
    editions: bool = True
    #: the edition store (default: ``editions.sqlite3`` beside the run cache)
    editions_db: Path | None = None
    #: stories seen before with nothing new: "omit", "list" (under "Still developing"), "full"
    repeats: Literal["omit", "list", "full"] = "list"
    #: send nothing (mail or channels) on a day whose brief has no new story and no update
    #: against the earlier editions (a brief not compared with any is always sent)
    skip_if_nothing_new: bool = False
    #: summarize through the provider's Batch API (as ``--batch``): half the price,
    #: answers within 24 hours; for nightly runs that can wait
    batch: bool = False

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        """Checked by hand: pydantic's own messages would echo a bad value (a token)."""
        if not isinstance(value, list):
            raise ValueError("expected a list of channel URLs")
        return [_channel_entry(item, i) for i, item in enumerate(value)]

    @field_validator("send_time", mode="before")
    @classmethod
    def _send_time(cls, value: Any) -> Any:
        if isinstance(value, dt.time):
            return value
        text = str(value)
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
        if isinstance(value, str) and match:
            hour, minute, second = (int(g or 0) for g in match.groups())
            if hour < 24 and minute < 60 and second < 60:
                return dt.time(hour, minute, second)
        raise ValueError(f"expected HH:MM, got {text!r}")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zone(value)
        except ConfigError as e:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')"
            ) from e
        return value

    @field_validator("regions", mode="before")
    @classmethod
    def _regions(cls, value: Any) -> Any:
        """Accept a region's label ("Europe") or its name ("middle_east"), any case."""
        if not isinstance(value, list):
            return value
        from briefing.regions import parse_region

        out = []
        for item in value:
            region = parse_region(str(item))
            if region is None:
                known = ", ".join(repr(r.value) for r in Region)
                raise ValueError(f"unknown region {item!r} (one of {known})")
            out.append(region)
        return out

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
            raise ValueError(f"expected a language tag such as 'en' or 'pt-BR', got {value!r}")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else " ".join(value.split()) or None

    # ------------------------------------------------------------------ applying it

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """Today's date where the readers are (the profile's time zone)."""
        return (now or dt.datetime.now(dt.UTC)).astimezone(self.zone).date()

    def select(self, briefing: Briefing) -> Briefing:
        """A brief made elsewhere (``send --brief FILE``) as this profile shows it: only
        its regions (and top stories among them), under its title. Briefs this profile
        builds get both from ``to_request`` instead, before any model call."""
        update: dict[str, Any] = {}
        if self.regions:
            sections = [s for s in briefing.sections if s.region in self.regions]
            kept = {story.id for section in sections for story in section.stories}
            update["sections"] = sections
            update["top_stories"] = [s for s in briefing.top_stories if s.id in kept]
        if self.title:
            update["title"] = self.title
        return briefing.model_copy(update=update) if update else briefing

    def to_request(
        self,
        *,
        model: ModelSettings | None = None,
        run: RunSettings | None = None,
        date: dt.date | None = None,
        outputs: Outputs | None = None,
        **overrides: Any,
    ) -> BriefRequest:
        """The request that builds this profile's brief: its sources, globs, regions,
        time zone, language and title; ``date`` defaults to today in its time zone and
        ``outputs`` to its ``output_dir`` files (``overrides``: other request fields,
        e.g. flags given on the command line)."""
        import dataclasses

        from briefing.languages import language_name
        from briefing.request import BriefRequest
        from briefing.settings import ModelSettings, RunSettings

        if not self.sources and "inputs" not in overrides:
            raise ConfigError(
                f"profiles.{self.name}.sources is empty: list files, directories, feeds "
                "or URLs there, or pass them on the command line."
            )
        day = date or self.today()
        if outputs is None:
            outputs = self.outputs(day)
        fields: dict[str, Any] = {
            "inputs": tuple(self.sources),
            "include": tuple(self.include),
            "exclude": tuple(self.exclude),
            "date": day,
            "timezone": self.timezone,
            "regions": tuple(self.regions) or None,
            "language": language_name(self.language),
            "title": self.title,
            "outputs": outputs,
            "model": model or ModelSettings(),
            "run": dataclasses.replace(run or RunSettings(), batch=True)
            if self.batch
            else run or RunSettings(),
            "profile": self.name,
            "editions": self.editions,
            "editions_db": self.editions_db,
            "repeats": self.repeats,
        }
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return BriefRequest(**fields)

    def outputs(self, date: dt.date) -> Outputs:
        """Its ``output_dir`` files for ``date`` (Markdown on stdout when it has none)."""
        from briefing.request import Outputs

        paths = self.output_paths(date)
        return Outputs.of(paths) if paths else Outputs()

    def output_paths(self, date: dt.date) -> dict[Format, Path]:
        """``{format: output_dir/brief-DATE.EXT}`` for ``brief --profile``, creating the dir.

        Empty when the profile has no ``output_dir``.
        """
        if self.output_dir is None:
            return {}
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(
                f"profiles.{self.name}.output_dir: cannot create {self.output_dir}: "
                f"{e.strerror or e}"
            ) from e
        return {f: self.output_dir / f"brief-{date.isoformat()}.{f}" for f in self.formats}


class Config(_Strict):
    """The whole config file."""

    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    channels: ChannelOptions = Field(default_factory=ChannelOptions)
    #: the delivery ledger (SQLite); default ``$XDG_STATE_HOME/briefing/deliveries.sqlite3``
    ledger: Path | None = None
    profiles: dict[str, Profile] = Field(default_factory=dict)
    #: the file this came from (for messages); not a key of the file
    path: Path | None = Field(default=None, exclude=True)

    def profile(self, name: str) -> Profile:
        """The profile called ``name``, or a ConfigError listing the ones there are."""
        try:
            return self.profiles[name]
        except KeyError:
            have = ", ".join(sorted(self.profiles)) or "none"
            where = self.path.name if self.path else "the config file"
            raise ConfigError(
                f"No profile {name!r} in {where} (profiles: {have}). Add a [profiles.{name}] table."
            ) from None


# --------------------------------------------------------------------------- loading


def config_path(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """``explicit``, else ``$BRIEFING_CONFIG``, else ``$XDG_CONFIG_HOME/briefing/config.toml``."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return Path(explicit).expanduser()
    if env.get("BRIEFING_CONFIG"):
        return Path(env["BRIEFING_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "briefing" / "config.toml"


def default_ledger_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/briefing/deliveries.sqlite3`` (``~/.local/state/...``)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "briefing" / "deliveries.sqlite3"


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file (see the module docstring for where it is).

    Relative paths in the file (sources, output_dir, ledger, ca_file) are relative to the
    file's directory, so a cron job finds them whatever its working directory.
    """
    env = os.environ if environ is None else environ
    file = config_path(path, env)
    label = str(path) if path is not None else str(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        how = "" if path is not None else " (or pass --config FILE, or set BRIEFING_CONFIG)"
        raise ConfigError(f"No config file at {file}: create it{how}.") from None
    except OSError as e:
        raise ConfigError(f"Cannot read the config file {file}: {e.strerror or e}.") from e
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{label}: not valid TOML: {e}") from e
    smtp = data.get("smtp")
    if isinstance(smtp, dict) and "password" in smtp:
        raise ConfigError(
            f"{label}: smtp.password: the password is never read from the config file; "
            f"remove it and set {PASSWORD_ENV} in the environment."
        )
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{label}: {describe_validation_error(e)}") from None
    return _resolve(config, file)


def _resolve(config: Config, file: Path) -> Config:
    base = file.parent

    def local(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else base / p

    def source(s: str) -> str:
        if s == "-" or re.match(r"^[a-z][a-z0-9+.-]*://", s, re.IGNORECASE):
            return s
        return str(local(Path(s)))

    profiles = {
        name: p.model_copy(
            update={
                "name": name,
                "sources": [source(s) for s in p.sources],
                "output_dir": local(p.output_dir),
                "editions_db": local(p.editions_db),
            }
        )
        for name, p in config.profiles.items()
    }
    return config.model_copy(
        update={
            "profiles": profiles,
            "ledger": local(config.ledger),
            "smtp": config.smtp.model_copy(update={"ca_file": local(config.smtp.ca_file)}),
            "path": file,
        }
    )


def describe_validation_error(error: ValidationError) -> str:
    """The first problem as ``dotted.key: what is wrong`` (plus how many more there are)."""
    problems = error.errors()
    first = problems[0]
    key = _dotted(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        what = "unknown key"
    elif kind == "missing":
        what = "missing"
    elif kind == "value_error":
        what = str(first["msg"]).removeprefix("Value error, ")
    else:
        what = f"{first['msg'][:1].lower()}{first['msg'][1:]}, got {first['input']!r}"
    more = f" (and {len(problems) - 1} more problem{'s' * (len(problems) > 2)})"
    return f"{key}: {what}" + (more if len(problems) > 1 else "")


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = "from" if part == "from_" else part
            simple = re.fullmatch(r"[A-Za-z0-9_-]+", part)
            out += ("." if out else "") + (part if simple else f'"{part}"')
    return out or "(top level)"


# --------------------------------------------------------------------------- SMTP settings


def sender_address(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The ``From`` address: ``BRIEFING_SMTP_FROM``, else ``smtp.from``; ConfigError if none."""
    env = os.environ if environ is None else environ
    raw = env.get("BRIEFING_SMTP_FROM")
    try:
        sender = validate_address(raw) if raw else config.smtp.from_
    except ValueError as e:
        raise ConfigError(f"BRIEFING_SMTP_FROM: {e}") from None
    if not sender:
        raise ConfigError(
            "No sender address: set smtp.from in the config file or BRIEFING_SMTP_FROM."
        )
    return sender


def smtp_settings(config: Config, environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """The SMTP settings to use: ``BRIEFING_SMTP_*`` over ``[smtp]`` over defaults.

    Raises ConfigError when no host is known, when a user is set without
    ``BRIEFING_SMTP_PASSWORD``, or when a password would cross the network unencrypted.
    """
    from briefing.deliver.smtp import SmtpSettings

    env = os.environ if environ is None else environ
    file = config.smtp
    host = env.get("BRIEFING_SMTP_HOST") or file.host
    security_raw = env.get("BRIEFING_SMTP_SECURITY") or file.security
    if security_raw not in DEFAULT_PORTS:
        raise ConfigError(
            f"BRIEFING_SMTP_SECURITY: expected starttls, tls or none, got {security_raw!r}"
        )
    security: Security = security_raw  # type: ignore[assignment]  # checked just above
    port_raw = env.get("BRIEFING_SMTP_PORT")
    if port_raw:
        if not port_raw.isdigit() or not 1 <= int(port_raw) <= 65535:
            raise ConfigError(f"BRIEFING_SMTP_PORT: expected a port number, got {port_raw!r}")
        port = int(port_raw)
    else:
        port = file.port or DEFAULT_PORTS[security]
    user = env.get("BRIEFING_SMTP_USER") or file.user
    password = env.get(PASSWORD_ENV) or None
    if not host:
        raise ConfigError("No SMTP server: set smtp.host in the config file or BRIEFING_SMTP_HOST.")
    if user and not password:
        raise ConfigError(f"SMTP user {user!r} is set but {PASSWORD_ENV} is not: export it.")
    if password and security == "none" and not _is_loopback(host):
        raise ConfigError(
            f"Refusing to send the SMTP password to {host} unencrypted: set smtp.security "
            "to 'starttls' or 'tls'."
        )
    return SmtpSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password,
        timeout=file.timeout,
        ca_file=file.ca_file,
        attempts=file.attempts,
        backoff=file.backoff,
    )


def ledger_path(config: Config, environ: Mapping[str, str] | None = None) -> Path:
    """``$BRIEFING_LEDGER``, else the file's ``ledger``, else the XDG state default."""
    env = os.environ if environ is None else environ
    if env.get("BRIEFING_LEDGER"):
        return Path(env["BRIEFING_LEDGER"]).expanduser()
    return config.ledger or default_ledger_path(env)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
