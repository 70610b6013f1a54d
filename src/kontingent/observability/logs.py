"""Structured logs: JSON lines in production, a readable console in demo, never personal data.

Invariants kept here:
- Every event passes `scrub_personal_data` last before it is rendered, after tracebacks were
  turned into text, so what an exception message or SQL error carries is masked too.
- Records of the standard library's `logging` (SQLAlchemy, asyncio, libraries) go through the
  same processors, so they are JSON, and scrubbed, like our own.
- Configuring is done by the entry points (`kontingent serve` workers, `kontingent worker`),
  never at import; configuring again replaces the previous setup instead of adding to it.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from kontingent.observability.model import scrub_mapping

FORMATS = ("json", "console")
LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10}
_HANDLER_NAME = "kontingent"


def scrub_personal_data(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The structlog processor: mask names, numbers, addresses, dates, PINs, tokens, codes."""
    return scrub_mapping(event)


def log_format_for(configured: str, demo: bool) -> str:
    """`auto` is the console in demo mode (people read it) and JSON otherwise (machines do)."""
    if configured in FORMATS:
        return configured
    return "console" if demo else "json"


def _renderer(fmt: str, stream: TextIO) -> Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=stream.isatty())


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]


def configure_logging(fmt: str = "json", level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog and the standard library's root logger to write to `stream`."""
    out = stream or sys.stdout
    numeric = LEVELS.get(level.lower(), logging.INFO)
    renderer = _renderer(fmt, out)
    structlog.configure(
        processors=[*_shared(), scrub_personal_data, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            scrub_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)


def reset_logging() -> None:
    """Undo `configure_logging` (tests)."""
    structlog.reset_defaults()
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
