"""Logging set-up: one handler on the root logger, plain text or one JSON object per line.

Every module logs through ``logging.getLogger(__name__)``; this only decides where lines go
and how they look, from the settings (``CAMPO_LOG_LEVEL``, ``CAMPO_LOG_JSON``). Fields passed
with ``extra=`` (request id, tenant, user, route, status, duration) are kept as keys in JSON and
appended as ``key=value`` in text, so a line reads the same in a terminal and in a collector.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from geo.core.settings import Settings

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_NAME = "campo"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the traceback as a string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...``, then the traceback if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if not extras:
            return text
        head, sep, tail = text.partition("\n")
        return f"{head} {extras}{sep}{tail}"


def configure_logging(settings: Settings) -> None:
    """Install campo's handler once (again: only level and format change)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if settings.log_json else TextFormatter())
    root.setLevel(settings.log_level)
    # The job queue logs every job's start and end with its whole record, four jobs a minute
    # even on an idle day: a worker's log would be nothing else. Its warnings still show, and
    # everything at DEBUG.
    queue_level = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    logging.getLogger("procrastinate").setLevel(queue_level)
