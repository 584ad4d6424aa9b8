"""Configuration (DESIGN section 6): environment over the TOML file over defaults.

``load()`` returns validated ``Settings`` or raises ``ConfigError`` with one line naming
the key and the problem.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

import sources as source_kinds
from resolver import __version__
from resolver.errors import ConfigError
from sources import Catalog
from sources.base import OptionsError

ENV_PREFIX = "RESOLVER_"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_BYTES = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_duration(value: Any) -> float:
    """``30s``, ``15m``, ``6h``, ``2d`` (or a number of seconds) -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"invalid duration {value!r}: use e.g. 30s, 15m, 6h or 2d")
        seconds = float(match.group(1)) * _SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return seconds


def parse_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"invalid size {value!r}: use e.g. 64MB")
    return int(float(match.group(1)) * _BYTES[(match.group(2) or "b").lower()])


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


def default_state_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("resolver", appauthor=False))


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    url: str | None = None
    every: Duration | None = None
    enabled: bool = True
    retired: bool = False
    late_days: int | None = Field(default=None, ge=0, le=3653)
    confirm_hours: float | None = Field(default=None, ge=0, le=87660, allow_inf_nan=False)
    confirm_polls: int | None = Field(default=None, ge=0, le=10_000)
    # The options of a kind (DESIGN section 2): a declared csv/json source's mapping, and
    # epoch-hub's mapping of members its unit table does not know. The kind checks them.
    rows: str | None = None
    benchmark: str | None = None
    unit: str | None = None
    scale: float | None = Field(default=None, allow_inf_nan=False)
    value: str | None = None
    date: str | None = None
    key: str | None = None
    subject: str | None = None
    attributes: dict[str, str] | None = None
    members: dict[str, dict[str, Any]] | None = None

    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in OPTIONS if getattr(self, name) is not None}


CONFIRM_POLLS = 2  # the default of every source (DESIGN section 4)
DIGEST_CRON = "30 6 * * *"  # a valid expression (tested): checking it would load APScheduler
OPTIONS = ("rows", "benchmark", "unit", "scale", "value", "date", "key", "subject",
           "attributes", "members")


class Source(BaseModel):
    """A source as configured: a built-in one with overrides, or a user-added one."""

    name: str
    kind: str
    url: str
    every: float
    enabled: bool
    retired: bool
    late_days: int
    confirm_hours: float
    confirm_polls: int
    options: dict[str, Any] = Field(default_factory=dict)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False,
    )

    state_dir: Path = Field(default_factory=default_state_dir)
    config: Path | None = None
    timezone: str = "UTC"
    digest_cron: str = DIGEST_CRON
    catch_up_days: int = Field(default=7, ge=0)
    poll_every: Duration = parse_duration("6h")
    late_days: int | None = Field(default=None, ge=0, le=3653)
    confirm_hours: float | None = Field(default=None, ge=0, le=87660, allow_inf_nan=False)
    confirm_polls: int | None = Field(default=None, ge=0, le=10_000)
    http_timeout: Duration = 30.0
    max_payload: Size = 64 * 1024 * 1024
    user_agent: str = f"resolver/{__version__} (AI benchmark prediction resolver)"
    notify: list[str] = Field(default_factory=list)
    public_url: str | None = None
    predictions_files: list[Path] = Field(default_factory=list)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    log_json: bool = False
    # Each prediction's state change is notified at once, besides the nightly digest.
    notify_changes: bool = True
    # Registration over HTTP (POST /api/predictions) is off while this is unset.
    api_token: SecretStr | None = None
    heartbeat_every: Duration = 30.0
    sources: dict[str, SourceSettings] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init arguments; the environment wins over it. ``load(env)``
        # reads the environment it is given, not os.environ (never swapped: other threads
        # read it).
        environ = _ENVIRON.get()
        if environ is not None and isinstance(env_settings, EnvSettingsSource):
            env_settings.env_vars = parse_env_vars(environ, env_settings.case_sensitive,
                                                   env_settings.env_ignore_empty,
                                                   env_settings.env_parse_none_str)
        return env_settings, init_settings

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("digest_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if value == DIGEST_CRON:
            return value
        from resolver.schedule import cron_fields

        cron_fields(value)
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _source_names(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        merged: dict[str, Any] = {}
        for name, table in value.items():
            canonical = str(name).lower().replace("_", "-")
            if isinstance(table, Mapping) and isinstance(merged.get(canonical), Mapping):
                merged[canonical] = {**merged[canonical], **table}
            else:
                merged[canonical] = table
        return merged

    # -- derived ---------------------------------------------------------------------------

    def resolved_sources(self) -> dict[str, Source]:
        """Every source as configured. Settings do not change once loaded: built once."""
        return dict(self._sources)

    @functools.cached_property
    def _sources(self) -> dict[str, Source]:
        result: dict[str, Source] = {}
        for builtin in source_kinds.BUILTIN:
            own = self.sources.get(builtin.name, SourceSettings())
            if own.kind is not None and own.kind != builtin.kind:
                raise ConfigError(f"sources.{builtin.name}.kind: the built-in source "
                                  f"{builtin.name} is of kind {builtin.kind}")
            result[builtin.name] = self._source(builtin.name, builtin.kind, builtin.url, own,
                                                builtin.late_days, builtin.confirm_hours)
        for name, own in self.sources.items():
            if name in result:
                continue
            kinds = ", ".join(source_kinds.KINDS)
            if own.kind is None or own.url is None:
                raise ConfigError(f"sources.{name}: a new source needs 'kind' and 'url' "
                                  f"(kinds: {kinds})")
            if own.kind not in source_kinds.KINDS:
                raise ConfigError(f"sources.{name}.kind: unknown kind {own.kind!r}; known: "
                                  f"{kinds}")
            # A source a user adds takes the timing defaults a built-in one has.
            result[name] = self._source(name, own.kind, own.url, own,
                                        source_kinds.BuiltinSource.late_days,
                                        source_kinds.BuiltinSource.confirm_hours)
        return result

    def _source(self, name: str, kind: str, url: str, own: SourceSettings, late_days: int,
                confirm_hours: float) -> Source:
        return Source(
            name=name, kind=kind, url=own.url or url, every=own.every or self.poll_every,
            enabled=own.enabled, retired=own.retired,
            late_days=_first(own.late_days, self.late_days, late_days),
            confirm_hours=_first(own.confirm_hours, self.confirm_hours, confirm_hours),
            confirm_polls=_first(own.confirm_polls, self.confirm_polls, CONFIRM_POLLS),
            options=own.options(),
        )

    def source_kinds(self) -> dict[str, str]:
        return {name: source.kind for name, source in self._sources.items()}

    @functools.cached_property
    def retired(self) -> frozenset[str]:
        return frozenset(name for name, source in self._sources.items() if source.retired)

    @functools.cached_property
    def kinds(self) -> Catalog:
        """What every configured source yields: what the claim language reads."""
        return self._catalog

    @functools.cached_property
    def _catalog(self) -> Catalog:
        try:
            return source_kinds.catalog({name: (source.kind, source.options)
                                         for name, source in self._sources.items()})
        except OptionsError as error:
            raise ConfigError(str(error)) from None


def _first(*values: Any) -> Any:
    return next(value for value in values if value is not None)


def load(env: Mapping[str, str] | None = None) -> Settings:
    environ = dict(os.environ if env is None else env)
    _check_env_names(environ)
    state_dir = Path(environ.get("RESOLVER_STATE_DIR") or default_state_dir())
    config_path = environ.get("RESOLVER_CONFIG")
    path = Path(config_path) if config_path else state_dir / "resolver.toml"
    data: dict[str, Any] = {}
    if config_path or path.exists():
        data = _read_toml(path)
        data["config"] = path
        if isinstance(data.get("sources"), dict):
            # The environment names sources with '_' for '-'; merge both spellings as one.
            data["sources"] = {str(k).replace("-", "_"): v for k, v in data["sources"].items()}
    try:
        settings = _with_env(environ, data)
        settings.resolved_sources()
        if any(own.options() or source_kinds.builtin(name) is None
               for name, own in settings.sources.items()):
            # A declared source's mapping, or a kind's options, are checked at start; the
            # built-in sources without options yield the built-in catalog as shipped.
            settings.kinds  # noqa: B018
    except ValidationError as error:
        raise ConfigError(_one_line(error, path if data else None)) from None
    return settings


_ENVIRON: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "resolver_environ", default=None)


def _with_env(environ: dict[str, str], data: dict[str, Any]) -> Settings:
    token = _ENVIRON.set(environ)
    try:
        return Settings(**data)
    finally:
        _ENVIRON.reset(token)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (RESOLVER_CONFIG)") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _check_env_names(environ: Mapping[str, str]) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in environ:
        if not name.upper().startswith(ENV_PREFIX):
            continue
        key = name.upper()[len(ENV_PREFIX):].split("__")[0]
        if key not in fields:
            raise ConfigError(f"{name}: unknown setting; known: "
                              f"{', '.join(sorted(ENV_PREFIX + f for f in fields))}")


def _one_line(error: ValidationError, path: Path | None) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "settings"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    where = f"{path}: " if path else ""
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}{location}: {message}{more}"
