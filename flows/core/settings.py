"""The one place for configuration: `Settings`, built once - by the `opendata` command or at
the flow's start - and passed down to every step. No step reads the environment, so the values
a run uses are exactly the values it hashes for caching, on a Dask worker too.

Each setting has a default, and is overridden by its environment variable (OPENDATA_<NAME>,
or the older name in `validation_alias`), by a line in `.env` in the working directory (the
environment wins), or by the command line (which wins over both). `opendata settings` prints
every value and where it came from.

Prefect's environment (home inside the project, analytics off) is set here too, before any
module imports Prefect, so that `opendata run` uses Prefect's embedded default without telemetry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.core.messages import say

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFIX = "OPENDATA_"
ENV_FILE = ".env"


class SettingsError(ValueError):
    """Settings that do not validate, said in one bilingual line naming the variable."""


class Settings(BaseSettings):
    """Every setting the run uses; `env_name(field)` names its environment variable."""

    # extra="ignore": .env may hold other tools' variables (PREFECT_*); an unknown OPENDATA_
    # variable is named by `opendata settings` (unknown_variables)
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=ENV_FILE,
                                      env_file_encoding="utf-8", extra="ignore",
                                      validate_by_name=True, frozen=True)

    raw_dir: Path = Field(Path("raw"), validation_alias="OPENDATA_RAW",
                          description="department reports, read only")
    out_dir: Path = Field(Path("published"), validation_alias="OPENDATA_OUT",
                          description="where releases go")
    source: str | None = Field(
        None, description="an fsspec URL to pull the reports from into raw_dir")
    reports_dir: Path = Field(Path("reports"), validation_alias="OPENDATA_REPORTS",
                              description="internal run reports (never published)")
    state_dir: Path = Field(Path("state"), validation_alias="OPENDATA_STATE",
                            description="last valid delivery per file (internal)")
    schemas_dir: Path = Field(PROJECT_ROOT / "schemas", validation_alias="OPENDATA_SCHEMAS",
                              description="schemas and codelists")
    base_url: str = Field(
        "https://example.org/aneby/oppna-data/",
        description="where published/ is served; the catalogue's IRIs")
    contact_email: str = Field(
        "mailto:oppnadata@example.org", validation_alias="OPENDATA_CONTACT",
        description="the catalogue's contact point (mailto: IRI)")
    report_periods: str = Field(
        "2019-2020,2019-2022", pattern=r"^\s*\d{4}(-\d{4})?\s*(,\s*\d{4}(-\d{4})?\s*)*$",
        description="follow-up report periods, e.g. 2019-2020,2021-2022")
    min_count: int = Field(
        5, ge=1, description="key figures counting fewer persons are suppressed")
    max_file_mb: int = Field(
        200, ge=1, description="a delivered file larger than this is rejected unread")
    split_mb: int = Field(
        32, ge=1, description="a CSV delivery larger than this is checked in spans of this "
        "size, each a task of its own (on Dask, on the workers)")
    keep_releases: int = Field(5, ge=1, description="how many releases to keep in releases/")
    kolada_api: str | None = Field(
        None, description="Kolada's API (https://api.kolada.se/v3): when set, the run pulls the "
        "comparison values from it; unset, it reads the shipped deliveries in raw/")
    notify_url: str | None = Field(
        None, description="a webhook told how each run went (JSON POST); like opendata run "
        "--notify URL")
    notify_on: Literal["failure", "problems", "always"] = Field(
        "problems", description="when the webhook is told: failure, problems (a failure or "
        "rejected rows or files) or always")
    reports_url: str | None = Field(
        None, description="where reports/ can be read (an intranet URL); notifications then "
        "link to the run's report there")
    department_emails: str = Field(
        "", description="department=address pairs, comma separated (kommunledning=a@x.se,"
        "social=b@x.se): each gets its report when its files had problems")
    smtp_host: str | None = Field(
        None, description="the mail server the department reports go through")
    smtp_port: int = Field(25, ge=1, le=65535, description="the mail server's port")
    smtp_from: str = Field("oppnadata@example.org", description="the reports' sender address")
    smtp_user: str | None = Field(
        None, description="login at the mail server, if it asks for one")
    smtp_password: SecretStr | None = Field(
        None, description="the password for OPENDATA_SMTP_USER")
    smtp_starttls: bool = Field(
        False, description="true to encrypt with STARTTLS (port 587)")

    @property
    def periods(self) -> list[tuple[int, int]]:
        """'2019-2020,2019-2022' -> [(2019, 2020), (2019, 2022)]."""
        found = []
        for item in self.report_periods.split(","):
            start, _, end = item.strip().partition("-")
            found.append((int(start), int(end or start)))
        return found

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 2**20

    @property
    def split_bytes(self) -> int:
        return self.split_mb * 2**20

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The environment, `.env` and the defaults, under `overrides` (None: not given).
        Raises SettingsError, one line naming the variable, when a value is invalid."""
        given = {name: value for name, value in overrides.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as error:
            raise SettingsError(explain(error)) from None

    @classmethod
    def defaults(cls) -> Settings:
        """Every setting at its default, whatever the environment says (for a step called
        without settings, as tests and library callers do)."""
        return cls.model_construct()


def env_name(field: str) -> str:
    """The environment variable (and .env key) of a setting."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else PREFIX + field.upper()


def explain(error: ValidationError) -> str:
    """One line: every invalid value's variable, the value and the problem."""
    parts = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = env_name(field) if field in Settings.model_fields else field or "?"
        value = "***" if field == "smtp_password" else item.get("input")
        parts.append(f"{name}={value!s}: {item['msg']}")
    return f"{say('settings.invalid')}: " + "; ".join(parts)


def dotenv_values_here() -> dict[str, str]:
    """The `.env` file's values (keys upper-cased), or nothing when there is none."""
    if not Path(ENV_FILE).is_file():
        return {}
    from dotenv import dotenv_values

    return {k.upper(): v for k, v in dotenv_values(ENV_FILE).items() if v is not None}


def source_of(field: str, given: set[str], dotenv: dict[str, str]) -> str:
    """Where a setting's value came from, in pydantic-settings' order of priority."""
    name = env_name(field)
    if field in given:
        return "command line"
    if name in {k.upper() for k in os.environ}:
        return f"environment ({name})"
    if name in dotenv:
        return ".env"
    return "default"


def effective(settings: Settings, given: set[str]) -> list[dict[str, str]]:
    """Every setting: its variable, its value (secrets masked) and where it came from."""
    dotenv = dotenv_values_here()
    rows = []
    for field in Settings.model_fields:
        value = getattr(settings, field)
        shown = ("***" if value else "") if isinstance(value, SecretStr) else value
        rows.append({"setting": field, "variable": env_name(field),
                     "value": "" if shown is None else str(shown),
                     "source": source_of(field, given, dotenv)})
    return rows


def unknown_variables() -> list[str]:
    """OPENDATA_ variables in the environment or .env that are no setting (a typo?)."""
    known = {env_name(field) for field in Settings.model_fields}
    names = {k.upper() for k in [*os.environ, *dotenv_values_here()]}
    return sorted(n for n in names if n.startswith(PREFIX) and n not in known)


def prefect_home() -> Path:
    """Where Prefect keeps its database and settings: PREFECT_HOME, else .prefect/ here."""
    return Path(os.environ.get("PREFECT_HOME") or PROJECT_ROOT / ".prefect")


def configure_prefect_environment() -> None:
    """Prefect's embedded default: temporary local server, SQLite, analytics off, home in the
    project (or wherever PREFECT_HOME already points). Call before importing prefect."""
    os.environ["PREFECT_HOME"] = str(prefect_home())
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # the temporary server may start slowly on a busy machine (20 s by default): a nightly
    # run waits rather than fails
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
