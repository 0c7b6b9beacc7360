"""What a run prints in a terminal: Dagster's console log, with each failure perfplat knows said once, in one
line, without a traceback (the traceback stays in the run's event log, for whoever wants it).

perfplat raises `dagster.Failure` with a sentence that names the cause and what to do. Dagster's console
logger prints that sentence with a stack trace for every step that fails for it (a publish directory that is
a file fails each of a service's measures) and again in the run's failure: 159 lines for one sentence. This
logger is Dagster's own colored console logger with a filter (`OnceEach`): a step that fails for a reason
perfplat knows shows Dagster's one line, the run's failure line says each such reason once, and any other
failure (a bug) shows as Dagster shows it, traceback and all. `quiet=True` keeps perfplat's failures off the
console altogether, for a command that says them itself as its last line (`failure_reasons`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from dagster import DagsterEvent, DagsterEventType, Field, logger
from dagster._core.events import EVENT_TYPE_TO_DISPLAY_STRING
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from dagster._utils.log import create_console_logger
from dagster_shared.error import SerializableErrorInfo

# Errors whose message is perfplat's own sentence: `Failure`, and the errors a run's own code raises with one.
KNOWN = frozenset({"Failure", "SourceUnavailable", "SettingError", "PublicationFailed", "StoreFailed"})
# What Dagster raises in a step when the run is interrupted (Ctrl-C): the command that started it says so.
INTERRUPTED = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})


def known_reason(event: DagsterEvent) -> str | None:
    """The sentence of a step failure perfplat raised for a reason it knows, else None (a bug, or Dagster's
    own error, which keeps its traceback)."""
    data = event.step_failure_data if event.event_type == DagsterEventType.STEP_FAILURE else None
    if data is None:
        return None
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description.strip()
    error = _innermost(data.error)
    if error is None or error.cls_name not in KNOWN:
        return None
    return error.message.partition(": ")[2].strip() or error.message.strip()


def interrupted(event: DagsterEvent) -> bool:
    """Whether the event is a step, a resource or the run failing because the run was interrupted."""
    error = _innermost(getattr(event.event_specific_data, "error", None))
    while error is not None and error.cls_name not in INTERRUPTED and error.cause is not None:
        error = error.cause
    return error is not None and error.cls_name in INTERRUPTED


def _innermost(error: SerializableErrorInfo | None) -> SerializableErrorInfo | None:
    """The error perfplat raised, inside Dagster's "Error occurred while executing op" wrapper, if any."""
    while error is not None and error.cause is not None and error.cls_name not in KNOWN:
        error = error.cause
    return error


def failure_reasons(events: Iterable[DagsterEvent]) -> list[str]:
    """Each distinct reason perfplat gave for a step of the run failing, in the order they happened."""
    reasons = [reason for event in events if (reason := known_reason(event))]
    return list(dict.fromkeys(reasons))


# By run, the reasons its steps failed for, as the filters of that run's console loggers saw them (Dagster
# builds more than one for a run in this process): said once, with the run's failure.
_REASONS: dict[str, list[str]] = {}


class OnceEach(logging.Filter):
    """Each of perfplat's reasons once, in the run's failure line: a step's failure is logged while Dagster
    captures the step's output for its compute log, and a line written there may not reach the terminal
    before the run ends, while the run's failure is written after. Steps that fail for it show Dagster's own
    one line ("Execution of step … failed."), the steps then left out nothing; anything else as Dagster shows
    it. `quiet` leaves perfplat's failures to the command, which says them itself."""

    def __init__(self, quiet: bool) -> None:
        super().__init__()
        self.quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None)
        if not meta:
            return True
        event: DagsterEvent | None = meta.get("dagster_event")
        run_id = meta.get("run_id") or ""
        if event is None:
            # "Dependencies for step X failed: [...]. Not executing.": what follows from a known failure.
            return not (_REASONS.get(run_id) and meta["orig_message"].startswith("Dependencies for step"))
        if self.quiet and interrupted(event):
            return False  # the command that started the run says it was interrupted, and what it left
        if event.event_type == DagsterEventType.STEP_FAILURE:
            reason = known_reason(event)
            if reason is None:
                return True
            reasons = _REASONS.setdefault(run_id, [])
            if reason not in reasons:
                reasons.append(reason)
            record.msg, record.args = _line(meta, meta["orig_message"]), ()
            return not self.quiet
        if event.event_type == DagsterEventType.RUN_FAILURE:
            said = _REASONS.pop(run_id, None) or _first_reason(event)
            if not said:
                return True  # a failure perfplat does not know: Dagster's own words and traceback
            record.msg, record.args = _line(meta, f"{meta['orig_message']} {' '.join(said)}"), ()
            return not self.quiet
        return not (self.quiet and event.event_type == DagsterEventType.STEP_UP_FOR_RETRY)


def _first_reason(event: DagsterEvent) -> list[str]:
    """The reason of the run's first failed step, where no filter of this process saw the step fail."""
    first = getattr(event.event_specific_data, "first_step_failure_event", None)
    reason = known_reason(first) if first is not None else None
    return [reason] if reason else []


def _line(meta: dict, message: str) -> str:
    """The record as Dagster's console shows it, with `message` and no error after it."""
    event = meta["dagster_event"]
    parts = [meta["job_name"] or "system", meta["run_id"], str(event.pid) if event.pid else None]
    shown = EVENT_TYPE_TO_DISPLAY_STRING.get(event.event_type, event.event_type_value)
    return " - ".join(p for p in [*parts, meta["step_key"], shown, message] if p)


class DagsterConsole(logging.Logger):
    """The class Dagster's own console logger is made of, once `say_failures_once` has run: Dagster builds
    it with `logging.getLoggerClass()` for each run, and this one filters it as `OnceEach` does. Any other
    logger of this class is a plain `logging.Logger`."""

    def __init__(self, name: str, level: int | str = logging.NOTSET) -> None:
        super().__init__(name, level)
        if name == "dagster":
            self.addFilter(OnceEach(quiet=False))


def say_failures_once() -> None:
    """Have every run of this process print each failure perfplat knows once, in one line, however it was
    launched (`dg launch`, `dagster asset materialize`, a run worker), where a run's config names no logger.
    Dagster offers no default for the implicit asset job's loggers, only `logging.getLoggerClass()`, which
    it reads for the console logger of each run; a class set by someone else is left alone."""
    if logging.getLoggerClass() is logging.Logger:
        logging.setLoggerClass(DagsterConsole)


@logger(
    {
        "log_level": Field(str, is_required=False, default_value="DEBUG", description="Its threshold."),
        "quiet": Field(
            bool, is_required=False, default_value=False, description="Leave perfplat's failures out."
        ),
    },
    description="Dagster's colored console logger, each failure perfplat knows said once, in one line.",
)
def perfplat_console(init_context) -> logging.Logger:
    config = init_context.logger_config
    console = create_console_logger("dagster", config["log_level"])
    console.addFilter(OnceEach(quiet=config["quiet"]))
    return console
