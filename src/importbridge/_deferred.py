"""Rows built on first access: a large payload's row results cost nothing until someone reads them.

An adapter that has checked every row of a payload may hand ``ImportJob`` a zero-argument
callable instead of the rows themselves (``rows=lambda: build(entries)``). The job stores the
callable; the first read of ``job.rows`` (directly, or through equality, hashing, ``repr``,
``to_dict``, pickling, ``attrs.evolve``) calls it once, keeps the tuple and hands back that
tuple from then on. Every observable behaviour is the eager one; only the cost moves.

The callable must be deterministic and must not fail: the adapter validates eagerly (so bad
input still raises from ``normalize``) and defers only the building. What it builds still passes
the field's validator (``check``), run once on the built tuple; ``importbridge.normalize`` builds
at once the rows of a payload handed to it already decoded (a caller's objects may hold what
JSON text cannot, such as NaN), so only rows read from strict JSON text are deferred. Two threads reading a
fresh job at once may both build; they store equal tuples.

Building runs with the garbage collector paused (``paused_gc``): the row objects are acyclic,
so a collection pass over them finds nothing, and a large build would otherwise pay for
repeated passes over the growing heap.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["DeferredSlot", "deferred_value", "paused_gc"]

_lock = threading.Lock()
_pauses = 0  # nesting depth across threads
_resume = False  # whether the collector was on when the outermost pause began


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold automatic garbage collection off while building many acyclic objects.

    Nothing is lost: collection only decides *when* cyclic garbage is freed, and whatever
    other threads make meanwhile is collected after the pause. Pauses nest (across threads
    too): the collector comes back on when the outermost ends, and only if it was on before.
    """
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


class DeferredSlot:
    """A data descriptor over a slot that may hold a builder: read it, and it holds the result."""

    __slots__ = ("_check", "_get", "_set")

    def __init__(self, slot: Any, check: Callable[[Any, tuple[Any, ...]], None] | None = None) -> None:
        self._get: Callable[..., Any] = slot.__get__
        self._set: Callable[[Any, Any], None] = slot.__set__
        self._check = check  # the field's validator, run on what the builder built

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self._get(instance, owner)
        if type(value) is tuple:
            return value
        with paused_gc():
            built = tuple(value())
        if self._check is not None:
            self._check(instance, built)
        self._set(instance, built)
        return built

    def __set__(self, instance: Any, value: Any) -> None:
        self._set(instance, value)


def deferred_value(value: object) -> bool:
    """Whether a field value is a builder to call on first access (not an iterable of rows)."""
    return callable(value) and not hasattr(value, "__iter__")
