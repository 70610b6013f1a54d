"""What the browser tests of every e2e package share: axe-core's script and the demo database
their servers start from. Each package launches its own Chromium (tests/e2e/browser.py says
why) and starts its own demo server (its `server` fixture) on a copy of that database.

`make test` installs Chromium and axe-core (`make browser`); without them these tests fail with
that advice rather than skip, so a missing browser is never mistaken for a pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import axe_script
from tests.e2e.demo import seed_template


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo seeded once per run; servers start on copies (tests/e2e/demo.py)."""
    return seed_template(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, injected into pages to check them (tests/e2e/browser.py)."""
    return axe_script()
