"""The one place for configuration. Every setting has a default and an environment override.

Prefect's environment (home inside the project, analytics off) is set here too, before any
module imports Prefect, so that `opendata run` uses Prefect's embedded default without telemetry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseModel):
    """Settings; each can be overridden by the environment variable named in its description."""

    raw_dir: Path = Field(Path("raw"), description="OPENDATA_RAW: department reports, read only.")
    out_dir: Path = Field(Path("published"), description="OPENDATA_OUT: where releases go.")
    source: str | None = Field(
        None, description="OPENDATA_SOURCE: an fsspec URL to pull the reports from into raw_dir.")
    reports_dir: Path = Field(
        Path("reports"), description="OPENDATA_REPORTS: internal run reports (never published)."
    )
    state_dir: Path = Field(
        Path("state"), description="OPENDATA_STATE: last valid delivery per file (internal)."
    )
    schemas_dir: Path = Field(
        PROJECT_ROOT / "schemas", description="OPENDATA_SCHEMAS: schemas and codelists."
    )
    base_url: str = Field(
        "https://example.org/aneby/oppna-data/",
        description="OPENDATA_BASE_URL: where published/ is served; the catalogue's IRIs.")
    contact_email: str = Field(
        "mailto:oppnadata@example.org",
        description="OPENDATA_CONTACT: the catalogue's contact point (mailto: IRI).")
    report_periods: str = Field(
        "2019-2020,2019-2022",
        description="OPENDATA_REPORT_PERIODS: follow-up report periods, e.g. 2019-2020,2021-2022.")
    min_count: int = Field(
        5, ge=1, description="OPENDATA_MIN_COUNT: key figures counting fewer persons are "
        "suppressed.")
    split_mb: int = Field(
        32, ge=1, description="OPENDATA_SPLIT_MB: a CSV delivery larger than this is checked in "
        "spans of this size, each a task of its own (on Dask, on the workers).")
    keep_releases: int = Field(
        5, ge=1, description="OPENDATA_KEEP_RELEASES: how many releases to keep in releases/."
    )
    notify_url: str | None = Field(
        None, description="OPENDATA_NOTIFY_URL: a webhook told how each run went (JSON POST); "
        "like opendata run --notify URL.")
    notify_on: Literal["failure", "problems", "always"] = Field(
        "problems", description="OPENDATA_NOTIFY_ON: when the webhook is told: failure, problems "
        "(a failure or rejected rows or files) or always.")
    reports_url: str | None = Field(
        None, description="OPENDATA_REPORTS_URL: where reports/ can be read (an intranet URL); "
        "notifications then link to the run's report there.")
    department_emails: str = Field(
        "", description="OPENDATA_DEPARTMENT_EMAILS: department=address pairs, comma separated "
        "(kommunledning=a@x.se,social=b@x.se): each gets its report when its files had problems.")
    smtp_host: str | None = Field(
        None, description="OPENDATA_SMTP_HOST: the mail server the department reports go through.")
    smtp_port: int = Field(25, description="OPENDATA_SMTP_PORT: the mail server's port.")
    smtp_from: str = Field(
        "oppnadata@example.org", description="OPENDATA_SMTP_FROM: the reports' sender address.")
    smtp_user: str | None = Field(
        None, description="OPENDATA_SMTP_USER: login at the mail server, if it asks for one.")
    smtp_password: SecretStr | None = Field(
        None, description="OPENDATA_SMTP_PASSWORD: the password for OPENDATA_SMTP_USER.")
    smtp_starttls: bool = Field(
        False, description="OPENDATA_SMTP_STARTTLS: true to encrypt with STARTTLS (port 587).")

    @property
    def periods(self) -> list[tuple[int, int]]:
        """'2019-2020,2019-2022' -> [(2019, 2020), (2019, 2022)]."""
        found = []
        for item in self.report_periods.split(","):
            start, _, end = item.strip().partition("-")
            found.append((int(start), int(end or start)))
        return found

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = {
            "raw_dir": os.environ.get("OPENDATA_RAW"),
            "out_dir": os.environ.get("OPENDATA_OUT"),
            "source": os.environ.get("OPENDATA_SOURCE"),
            "reports_dir": os.environ.get("OPENDATA_REPORTS"),
            "schemas_dir": os.environ.get("OPENDATA_SCHEMAS"),
            "state_dir": os.environ.get("OPENDATA_STATE"),
            "keep_releases": os.environ.get("OPENDATA_KEEP_RELEASES"),
            "base_url": os.environ.get("OPENDATA_BASE_URL"),
            "contact_email": os.environ.get("OPENDATA_CONTACT"),
            "report_periods": os.environ.get("OPENDATA_REPORT_PERIODS"),
            "min_count": os.environ.get("OPENDATA_MIN_COUNT"),
            "split_mb": os.environ.get("OPENDATA_SPLIT_MB"),
            **{name: os.environ.get(f"OPENDATA_{name.upper()}") for name in _NOTIFY_SETTINGS},
        }
        values = {k: v for k, v in env.items() if v is not None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def prefect_home() -> Path:
    """Where Prefect keeps its database and settings: PREFECT_HOME, else .prefect/ here."""
    return Path(os.environ.get("PREFECT_HOME") or PROJECT_ROOT / ".prefect")


_NOTIFY_SETTINGS = ("notify_url", "notify_on", "reports_url", "department_emails", "smtp_host",
                    "smtp_port", "smtp_from", "smtp_user", "smtp_password", "smtp_starttls")


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
