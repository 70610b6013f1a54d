"""The ASGI factory Granian workers call: settings from the environment, then `create_app`."""

from __future__ import annotations

from litestar import Litestar

from kontingent.app import create_app
from kontingent.config import load_settings


def from_environment() -> Litestar:
    return create_app(load_settings().check())
