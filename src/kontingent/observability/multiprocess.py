"""The folder where each web worker keeps its metric values, made before the workers start.

This module imports nothing of prometheus_client on purpose: the library decides at import
whether values go to files (PROMETHEUS_MULTIPROC_DIR set) or stay in the process, so the
variable must be set by `kontingent serve` before any worker imports it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(configured: str, port: int) -> Path:
    """Create (or empty) the metrics folder and name it to the workers through `ENV`.

    Emptied because a file of a process from an earlier run would be added to this run's
    counters; only prometheus_client's own `*.db` files are removed, nothing else there."""
    path = Path(
        configured
        or os.environ.get(ENV)
        or Path(tempfile.gettempdir()) / f"kontingent-metrics-{port}"
    )
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)
    os.environ[ENV] = str(path)
    return path
