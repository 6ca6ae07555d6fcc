"""Path-template routing for simulators: ``router.add("GET", "/imports/{job_id}", handler)``.

Templates are matched segment by segment (``{name}`` matches one non-empty segment), so a
simulator's route table reads like the provider's documentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

import attrs

from .messages import HttpError, Request, Response

__all__ = ["Handler", "Route", "Router"]

Handler = Callable[[Request], Response]
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


@attrs.frozen
class Route:
    """One method + path template and the handler answering it."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + "/?$")


class Router:
    """An ordered route table; the first template that matches the path wins."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Answer ``method`` requests whose path matches ``template`` with ``handler``."""
        self._routes.append(Route(method.upper(), template, handler, _compile(template)))

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def resolve(self, request: Request) -> tuple[Route, Request]:
        """The route for ``request`` and the request with its path parameters filled in.

        Raises ``HttpError`` 404 when no template matches and 405 when only the method is wrong.
        """
        allowed: list[str] = []
        for route in self._routes:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            params = {key: unquote(value) for key, value in match.groupdict().items()}
            return route, attrs.evolve(request, params=params)
        if allowed:
            raise HttpError(
                405,
                f"method {request.method} is not allowed on {request.path}",
                kind="method_not_allowed",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise HttpError(404, f"no route for {request.method} {request.path}", kind="no_route")
