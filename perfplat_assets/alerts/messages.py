"""What an alert says: the words of each alert perfplat sends, and the runbook entry it points to.

Pure: no Dagster, no I/O. The sensors gather the facts (a run's failure, the deadline, a dead-lettered
message, a month's figures) and the channels deliver the `Alert`; every alert's text passes through
`without_secrets` before it is stored or sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, quote_plus

from perfplat_assets.common.database import secrets_in
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service


@dataclass(frozen=True)
class RunbookEntry:
    """A runbook section: its anchor in docs/runbook.md (the docs site's Runbook page) and the one thing to do
    first."""

    anchor: str
    first_step: str

    @property
    def link(self) -> str:
        return f"docs/runbook.md#{self.anchor}"


SOURCE_UNREACHABLE = RunbookEntry(
    "a-source-or-target-cannot-be-reached",
    "fix the setting the message names (or the network), then re-run the month",
)
CREDENTIAL = RunbookEntry(
    "a-credential-or-role-is-missing",
    "renew the credential or grant the role the message names, then re-run the month",
)
WITHHELD = RunbookEntry(
    "a-check-withheld-a-measure",
    "read the check's reason; fix the source (or the figures file) and re-run the month",
)
FIGURES_FILE = RunbookEntry(
    "the-figures-file-is-refused",
    "fix the line the message names in PERFPLAT_TAKEUP_FIGURES_FILE, then re-run take-up",
)
JOURNAL = RunbookEntry(
    "a-publication-was-left-applying",
    "nothing by hand: the next run completes or undoes it; re-run the month to publish it",
)
RUN_FAILED = RunbookEntry(
    "a-run-failed",
    "open the run, read its failed step, fix the cause and re-run the month",
)
LATE = RunbookEntry(
    "a-month-is-not-published-by-the-deadline",
    "publish it by hand before 12:00 UTC: `queuecli perfplat-queue.fifo send` (the month that just closed), "
    "or Materialize all for the month in the UI",
)
DEAD_LETTER = RunbookEntry(
    "a-queue-message-was-dead-lettered",
    "read the reason, then send a corrected message; inspect or redrive the dead-letter queue",
)

# The first entry whose words appear in a run's failure message (lower-cased) is the one to follow.
_FAILURE_ENTRIES: tuple[tuple[tuple[str, ...], RunbookEntry], ...] = (
    (("withheld",), WITHHELD),
    (("perfplat_takeup_figures_file",), FIGURES_FILE),
    (("applying", "journal"), JOURNAL),
    (("permission", "denied", "role", "credential", "unauthori", "forbidden", "expired", "403"), CREDENTIAL),
    (
        ("could not be reached", "cannot reach", "unreachable", "refused", "timed out", "check perfplat_"),
        SOURCE_UNREACHABLE,
    ),
)


def runbook_for(failure: str) -> RunbookEntry:
    """The runbook entry for a run that failed with this message."""
    lowered = failure.lower()
    for words, entry in _FAILURE_ENTRIES:
        if any(word in lowered for word in words):
            return entry
    return RUN_FAILED


@dataclass(frozen=True)
class Alert:
    """One alert: `key` makes it once-only (one delivery per channel, ever); `title` is a line that stands
    alone (Slack's notification, SNS's subject); `body` the rest, plain text with `code` marks."""

    key: str
    title: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}"


def months_said(months: Sequence[Month]) -> str:
    """`2026-10`, or `2026-09 to 2026-11` for a range."""
    ordered = sorted(months)
    if not ordered:
        return "no month"
    return str(ordered[0]) if len(ordered) == 1 else f"{ordered[0]} to {ordered[-1]}"


def _lines(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line)


def run_failed(
    run_id: str, job: str, months: Sequence[Month], failure: str, run_url: str | None, launched_by: str
) -> Alert:
    """A perfplat run failed: the job (Dagster's implicit asset job is "a run"), the months, the first line
    of perfplat's own message, what launched it, where the run is and what to do."""
    first_line = failure.strip().splitlines()[0] if failure.strip() else "the run failed (no message)"
    entry = runbook_for(failure)
    named = "a run" if job.startswith("__") else job
    return Alert(
        key=f"run-failed:{run_id}",
        title=f"perfplat: {named} failed for {months_said(months)}",
        body=_lines(
            first_line,
            f"Launched by {launched_by}.",
            f"Run: {run_url}" if run_url else f"Run id: {run_id} (set PERFPLAT_UI_URL for a link)",
            f"What to do: {entry.first_step}. Runbook: {entry.link}",
        ),
    )


def month_late(
    service: Service,
    month: Month,
    deadline: datetime,
    automation: str,
    check_url: str | None,
    why: Sequence[str] = (),
) -> Alert:
    """The service's month that closed last was not published by a run by its deadline; `why`: what the
    store says of its measures that month (a source not available yet, a check that withheld it)."""
    return Alert(
        key=f"late:{service.name}:{month}",
        title=f"perfplat: {service}'s {month} is not published ({deadline:%H:%M} UTC on {deadline:%-d %B} "
        "has passed)",
        body=_lines(
            f"No run has published {service}'s {month} yet (an imported month does not count). {automation}",
            *(f"Why: {reason}" for reason in why),
            f"Check: {check_url}" if check_url else None,
            f"What to do: {LATE.first_step}. Runbook: {LATE.link}",
        ),
    )


# An SQS MessageId is a UUID; anything else in its place is not repeated to a person.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")


def message_dead_lettered(message_id: str, reason: str, outcome: str, queue: str) -> Alert:
    """A queue message perfplat refused: its original MessageId (the dead-letter copy gets a new one), why
    and what became of it, all in perfplat's own words (`reason` is `InvalidMessage.said`, `outcome` and
    `queue` perfplat's): whatever the message held could be anything, a link or an instruction to a
    person, so none of it reaches an alert; it is in the dead-letter queue and the sensor's log."""
    valid = bool(_MESSAGE_ID.fullmatch(message_id))
    shown = message_id if valid else "(not an SQS MessageId)"
    return Alert(
        key=f"dead-letter:{message_id if valid else hashlib.sha256(message_id.encode()).hexdigest()[:32]}",
        title=f"perfplat: queue message {shown} was refused",
        body=_lines(
            f"Reason: {reason}",
            f"The message was {outcome} ({queue}); the sensor's log has the whole reason.",
            f"What to do: {DEAD_LETTER.first_step}. Runbook: {DEAD_LETTER.link}",
        ),
    )


@dataclass(frozen=True)
class Figure:
    """A published value as a reader reads it: its dataType and its value with its unit."""

    data_type: str
    shown: str


def month_published(
    run_id: str,
    months: Sequence[Month],
    figures: Mapping[Month, Sequence[Figure]],
    warnings: Iterable[str],
    revisions: Iterable[str],
    run_url: str | None,
) -> Alert:
    """A scheduled publication went out: each month's figures, its warnings and its revisions."""
    lines = [
        f"{month}: " + (", ".join(f"{f.data_type} {f.shown}" for f in figures.get(month, ())) or "no figures")
        for month in sorted(months)
    ]
    warned = sorted(set(warnings))
    revised = list(revisions)
    return Alert(
        key=f"published:{run_id}",
        title=f"perfplat: published {months_said(months)}",
        body=_lines(
            *lines,
            "Warnings: " + "; ".join(warned) if warned else "Warnings: none",
            "Revisions: " + "; ".join(revised) if revised else "Revisions: none",
            f"Run: {run_url}" if run_url else None,
        ),
    )


_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@", re.I)
# Settings whose whole value is a secret; a URL setting's secrets are its password and secret parameters.
_SECRET_NAMES = ("TOKEN", "PASSWORD", "SECRET", "API_KEY")


def known_secrets(environ: Mapping[str, str]) -> set[str]:
    """Every secret the environment gives perfplat, as given and percent-encoded: tokens, passwords and
    keys whole, a URL's password and secret query values."""
    found: set[str] = set()
    for name, value in environ.items():
        if not value.strip():
            continue
        if any(mark in name.upper() for mark in _SECRET_NAMES):
            found |= {value, quote(value, safe=""), quote_plus(value)}
        elif "://" in value:
            found |= set(secrets_in(value))
    return {secret for secret in found if len(secret) >= 4}  # "***" itself, or a 1-character "password"


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with every known secret (as given and however encoded, see `known_secrets`) and any URL's
    password replaced by `***`: an alert leaves perfplat, so it never holds one."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
