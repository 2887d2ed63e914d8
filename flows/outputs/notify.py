"""Telling people how a run went: a webhook for the operator, each department's report by mail.

Nobody reads the console of a nightly run. The webhook (a JSON POST in one documented shape,
see FORMAT) says whether the run failed, published with rejected rows or files, published
clean or found nothing changed, with the counts and where the report is; a department whose
files had problems gets its own Markdown report at its own address.

Neither may change the run: a webhook that does not answer or a mail server that refuses is
a bilingual warning in the run's log (and on the console of `opendata run`), never a failed
run, and the run's outcome stays what it was.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flows.core import progress
from flows.core.messages import say
from flows.core.runlog import one_line
from flows.core.settings import Settings
from flows.outputs.run_summary import FileSummary, RunSummary, department_summaries

FORMAT = "aneby-opendata-notification/1"  # the webhook body's shape; a change gets a new number
FAILED, REJECTIONS, PUBLISHED, UNCHANGED = (
    "failed", "published_with_rejections", "published", "unchanged")
SENT_ON = {"failure": {FAILED}, "problems": {FAILED, REJECTIONS},
           "always": {FAILED, REJECTIONS, PUBLISHED, UNCHANGED}}
MAILED = 1000  # problems per file in a department's mail; more are in the report's file
TIMEOUT = 10.0  # seconds for the webhook and the mail server to answer


def run_status(summary: RunSummary | None, failed: bool) -> str:
    """failed (the flow failed or crashed, or nothing was published), published_with_rejections,
    published or unchanged."""
    if failed or summary is None or not (summary.published or summary.unchanged_since):
        return FAILED
    if summary.unchanged_since:
        return UNCHANGED
    return REJECTIONS if _rejected(summary.files) else PUBLISHED


def _rejected(files: list[FileSummary]) -> bool:
    return any(f.rows_rejected or f.file_rejected for f in files)


def notification(summary: RunSummary | None, failed: bool, message: str | None,
                 report: Path | None, reports_url: str | None = None,
                 flow_run: dict[str, str] | None = None) -> dict[str, Any]:
    """The webhook body: always the same keys (FORMAT), null where the run did not get that
    far (a run that stopped before its files were counted has no summary and no report)."""
    status = run_status(summary, failed)
    reason = None
    if status == FAILED:
        reason = one_line((summary.reason if summary is not None else None) or message
                           or str(say("notify.unknown-error")))
    link = (reports_url.rstrip("/") + f"/{report.name}/") if reports_url and report else None
    return {"format": FORMAT, "status": status,
            "text": _text(status, summary, reason, link or (str(report) if report else None)),
            "reason": reason, "summary": _counts(summary, report),
            "report": str(report) if report else None, "report_url": link,
            "flow_run": flow_run}


def _counts(summary: RunSummary | None, report: Path | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    departments: dict[str, list[FileSummary]] = {}
    for file in summary.files:
        departments.setdefault(file.department or "okand", []).append(file)
    return {
        "raw_dir": summary.raw_dir, "finished": summary.finished,
        "release": summary.release.version if summary.release else None,
        "unchanged_since": summary.unchanged_since,
        "files": len(summary.files), "files_rejected": sum(f.file_rejected for f in summary.files),
        "rows_read": summary.rows_read, "rows_published": summary.rows_published,
        "rows_rejected": summary.rows_rejected, "problems": len(summary.problems),
        "departments": {name: {
            "files": len(files), "files_rejected": sum(f.file_rejected for f in files),
            "rows_read": sum(f.rows_read for f in files),
            "rows_published": sum(f.rows_published for f in files),
            "rows_rejected": sum(f.rows_rejected for f in files),
            "problems": sum(len(f.problems) for f in files),
            "report": str(report / f"{name}.md") if report else None,
        } for name, files in sorted(departments.items())},
    }


def _text(status: str, summary: RunSummary | None, reason: str | None,
          where: str | None) -> str:
    """One line for a chat channel, Swedish first, English alongside."""
    tail = f" – {say('notify.report')}: {where}" if where else ""
    if status == FAILED:
        return f"{say('notify.failed')}: {reason}{tail}"
    if status == UNCHANGED:
        return str(say("notify.unchanged", since=summary.unchanged_since))
    version = summary.release.version if summary.release else "?"
    if status == PUBLISHED:
        return f"{say('notify.published', version=version)}{tail}"
    rows, files = summary.rows_rejected, sum(f.file_rejected for f in summary.files)
    return f"{say('notify.published-rejected', version=version, rows=rows, files=files)}{tail}"


def tell(summary: RunSummary | None, failed: bool, message: str | None, reports_dir: Path,
         settings: Settings, logger: Any, flow_run: dict[str, str] | None = None) -> None:
    """After a run: the webhook when settings.notify_on says so, and each department's report
    to its addresses when its files had problems. Never raises."""
    report = None
    if summary is not None and not summary.unchanged_since:  # its reports were written
        report = (Path(reports_dir) / "latest").resolve()
    if settings.notify_url:
        payload = notification(summary, failed, message, report, settings.reports_url,
                               flow_run)
        if payload["status"] in SENT_ON[settings.notify_on]:
            send_webhook(settings.notify_url, payload, logger)
    if summary is not None and settings.smtp_host and settings.department_emails:
        addresses = department_addresses(settings.department_emails, logger)
        send_mails(department_mails(summary, addresses, settings.smtp_from, report),
                   settings, logger)


def send_webhook(url: str, payload: dict[str, Any], logger: Any) -> bool:
    """POST the payload as JSON through Prefect's custom webhook block (in-process, nothing
    saved on a server). The body is the payload exactly: the block's template is `{{body}}`."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    try:
        block = CustomWebhookNotificationBlock(
            name="aneby-opendata", url=url, form_data="{{body}}", timeout=TIMEOUT,
            headers={"Content-Type": "application/json; charset=utf-8"})
        block.notify(json.dumps(payload, ensure_ascii=False), subject=payload["status"],
                     _sync=True)
    except Exception as error:
        _warn(logger, str(say("notify.webhook-failed", host=_host(url), error=_hide(error, url))))
        return False
    logger.info(str(say("notify.webhook-told", host=_host(url), status=payload["status"])))
    return True


def _host(url: str) -> str:
    """The webhook's scheme and host: its path often holds a token, kept out of logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def _hide(error: BaseException, url: str) -> str:
    return f"{type(error).__name__}: {error}".replace(url, _host(url) + "/…")


def _warn(logger: Any, line: str) -> None:
    logger.warning(line)
    progress.report("notify-failed", line)


def department_addresses(text: str, logger: Any) -> dict[str, list[str]]:
    """'kommunledning=a@x.se,social=b@x.se' -> {department: [addresses]}; a department may be
    named more than once. An item that is not department=address is skipped with a warning."""
    found: dict[str, list[str]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        department, _, address = (s.strip() for s in item.partition("="))
        if not department or "@" not in address:
            _warn(logger, f"OPENDATA_DEPARTMENT_EMAILS: '{item}' {say('notify.not-an-address')} "
                          f"({say('notify.for-example')} social=namn@aneby.se).")
            continue
        found.setdefault(department, []).append(address)
    return found


def department_mails(summary: RunSummary, addresses: dict[str, list[str]], sender: str,
                     report: Path | None) -> list[EmailMessage]:
    """One mail per address of each department whose files had problems: its report, the same
    Markdown as reports/<time>/<department>.md, as text/markdown in UTF-8."""
    texts = department_summaries(summary, folder=report, shown=MAILED)
    mails = []
    for department, text in texts.items():
        files = [f for f in summary.files if (f.department or "okand") == department]
        if not any(f.problems or f.rows_rejected or f.file_rejected for f in files):
            continue
        rows, problems = sum(f.rows_rejected for f in files), sum(len(f.problems) for f in files)
        for address in addresses.get(department, []):
            mail = EmailMessage()
            mail["Subject"] = str(say("notify.subject", department=department,
                                      problems=problems, rows=rows))
            mail["From"], mail["To"] = sender, address
            mail["Date"], mail["Message-ID"] = formatdate(localtime=True), make_msgid()
            mail.set_content(text, subtype="markdown", charset="utf-8")
            mails.append(mail)
    return mails


def send_mails(mails: list[EmailMessage], settings: Settings, logger: Any) -> int:
    """Send over one SMTP connection (STARTTLS and login when set). A refused address or an
    unreachable server is a warning; returns how many were sent."""
    sent = 0
    if not mails:
        return sent
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                password = settings.smtp_password
                smtp.login(settings.smtp_user, password.get_secret_value() if password else "")
            for mail in mails:
                try:
                    smtp.send_message(mail)
                    sent += 1
                except smtplib.SMTPException as error:
                    _warn(logger, f"{say('notify.not-sent', address=mail['To'])}: "
                                  f"{type(error).__name__}: {error}")
    except Exception as error:
        _warn(logger, str(say("notify.no-mail-server",
                              server=f"{settings.smtp_host}:{settings.smtp_port}",
                              unsent=len(mails) - sent, error=f"{type(error).__name__}: {error}")))
    if sent:
        logger.info(str(say("notify.mailed", count=sent)))
    return sent
