"""The ASGI factory Granian workers call: settings from the environment, then `create_app`."""

from __future__ import annotations

from litestar import Litestar

from kontingent.app import create_app
from kontingent.config import load_settings
from kontingent.observability.logs import configure_logging, log_format_for


def from_environment() -> Litestar:
    settings = load_settings().check()
    configure_logging(log_format_for(settings.log_format, settings.demo), settings.log_level)
    return create_app(settings)
