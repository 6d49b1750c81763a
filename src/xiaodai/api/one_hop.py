"""One worker-thread hop per API request.

FastAPI runs each synchronous piece of a request in the thread pool separately: every sync dependency, the
endpoint, the response validation and every sync dependency's exit. Each hop hands the GIL between the
event loop and a worker thread twice; with six or seven per request, the event loop waits behind the worker
threads and requests queue in front of it (on two cores under load, reads had a p99 of about 2 s while the
application measured 25 ms inside).

``OneHopRoute`` turns a synchronous endpoint into a coroutine that runs, in ONE worker thread, the endpoint
and then the end of the request's database sessions (``deps.finish_sessions``: commit, or roll back on an
error, and close). The dependencies (``deps.db``, ``deps.read_db``, ``deps.current_user``) run on the event
loop and do no I/O unless they must (a token not looked up recently goes to a thread). The guarantees are
those of ``deps.db``: the commit (and the audit chain written at commit) happens before the response is
sent, and a commit that fails is an error response, never a 2xx.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from xiaodai.api.deps import finish_sessions


def in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint as a coroutine: the endpoint and the commit of the request's sessions, in one thread."""

    @functools.wraps(endpoint)  # FastAPI reads the parameters and the return type through __wrapped__
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(_call_then_finish, endpoint, args, kwargs)

    return run


def _call_then_finish(endpoint: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        result = endpoint(*args, **kwargs)
    except BaseException:
        finish_sessions(commit=False)
        raise
    finish_sessions(commit=True)
    return result


class OneHopRoute(APIRoute):
    """An ``APIRoute`` whose synchronous endpoint runs as ``in_one_thread`` (coroutine endpoints as given)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = in_one_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)
