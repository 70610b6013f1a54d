"""Nothing on a request's path is handed to the thread pool: every route handler, request
hook and dependency of the app is a coroutine, or a plain function marked to run on the event
loop (`sync_to_thread=False`). Litestar runs a plain function it is not told about in its
thread pool, which cost every API request a thread hop until `answer_options` became a
coroutine (bench/README.md, "CPU per booking"). Walked over the app itself; no I/O."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router, get
from litestar.di import Provide
from litestar.utils.sync import AsyncCallable

from tests.unit.ratelimit.test_routes import demo_app, handlers

HOOKS = ("before_request", "after_request", "after_response")


def thread_hops(app: Litestar) -> list[str]:
    """What runs in the thread pool on `app`'s requests, one line per handler and hook."""
    problems = []
    for path, methods, handler in handlers(app):
        where = f"{'|'.join(sorted(methods))} {path}"
        if handler.has_sync_callable and handler.sync_to_thread:
            problems.append(f"{where}: the handler itself")
        for layer in handler.ownership_layers:
            for name in HOOKS:
                # Litestar wraps a plain function given as a hook into a thread-pool call.
                hook = getattr(layer, name, None)
                if isinstance(hook, AsyncCallable):
                    problems.append(f"{where}: the {name} hook {hook.func.__name__}")
        for key, provide in handler.resolve_dependencies().items():
            sync = isinstance(provide, Provide) and provide.has_sync_callable
            if sync and provide.sync_to_thread:
                problems.append(f"{where}: the dependency {key}")
    return problems


def test_no_handler_hook_or_dependency_runs_in_the_thread_pool() -> None:
    assert thread_hops(demo_app()) == []


def test_the_walk_finds_a_plain_before_request_hook() -> None:
    def plain_hook(_: Any) -> None:
        return None

    @get("/x", sync_to_thread=False)
    def handler() -> str:
        return "x"

    app = Litestar([Router("/", route_handlers=[handler], before_request=plain_hook)])
    assert "GET /x: the before_request hook plain_hook" in thread_hops(app)
