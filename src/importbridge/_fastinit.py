"""A faster ``__init__`` for frozen, slotted attrs models, with exactly attrs' semantics.

Adapters build one ``ImportJob`` per poll and one ``RowResult`` per reported row (tens of
thousands for a large import), so construction cost is on the hot path. attrs' generated
``__init__`` for frozen classes stores each field through ``object.__setattr__`` and calls every
validator and converter as a function. The replacement generated here does the same work in the
same order (all converters, then every field stored, then every validator in field order unless
``attrs.validators.set_disabled(True)``, then ``__attrs_post_init__`` if the class has one), but
stores through the slot descriptors and, for the validators and converters it is told about,
first tries an inline expression that is true exactly when the full check would pass. Whatever
fails the inline test goes to the original validator or converter, so errors and edge cases stay
attrs' own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["install_fast_init"]


def install_fast_init(
    cls: type,
    *,
    passes: Mapping[Any, str] | None = None,
    unchanged: Mapping[Any, str] | None = None,
    names: Mapping[str, Any] | None = None,
    post_init_passes: str | None = None,
) -> Callable[..., Any]:
    """Replace ``cls.__init__`` (an attrs-generated, keyword-only one) by an equivalent, faster one.

    Returns a positional builder with the same checks, ``build(field1, field2, ...)`` in field
    order (defaults only after the last required field): for loops that make thousands of
    instances, it also skips the type call and the keyword matching.

    ``passes[validator]`` is an expression in ``{v}`` that is true only when ``validator`` would
    accept ``v`` (``instance_of`` validators get ``type({v}) is T`` automatically).
    ``unchanged[converter]`` is an expression that is true only when ``converter(v)`` returns
    ``v`` itself. ``post_init_passes`` is an expression in the field names that is true only
    when ``__attrs_post_init__`` would do nothing. ``names`` are globals those expressions may
    use. The attrs-generated ``__init__`` stays available as ``cls.__attrs_generated_init__``.
    """
    passes = passes or {}
    unchanged = unchanged or {}
    fields = attrs.fields(cls)
    namespace: dict[str, Any] = {**(names or {}), "_disabled": attrs.validators.get_disabled}
    params: list[str] = []
    positional: list[str] = []
    convert: list[str] = []
    validate: list[str] = []
    tests: list[str | None] = []  # each validator's inline test (None: it has none)
    store: list[str] = []
    for index, field in enumerate(fields):
        if not field.init or field.alias != field.name:
            raise TypeError(f"{cls.__name__}.{field.name}: unsupported field for a fast __init__")
        name = field.name
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{cls.__name__}.{name}: factories are not supported")
        if field.default is attrs.NOTHING:
            params.append(name)
            positional = [param.split("=")[0] for param in positional]  # no default before this
            positional.append(name)
        else:
            namespace[f"_d{index}"] = field.default
            params.append(f"{name}=_d{index}")
            positional.append(f"{name}=_d{index}")
        if field.converter is not None:
            namespace[f"_c{index}"] = field.converter
            shortcut = unchanged.get(field.converter)
            call = f"{name} = _c{index}({name})"
            convert.append(
                f"    if not ({shortcut.format(v=name)}):\n        {call}" if shortcut else f"    {call}"
            )
        if field.validator is not None:
            namespace[f"_v{index}"] = field.validator
            namespace[f"_a{index}"] = field
            call = f"_v{index}(self, _a{index}, {name})"
            test = _passes_expression(field.validator, name, index, passes, namespace)
            validate.append(f"        if not ({test}):\n            {call}" if test else f"        {call}")
            tests.append(test)
        namespace[f"_s{index}"] = getattr(cls, name).__set__  # the slot descriptor
        store.append(f"    _s{index}(self, {name})")
    # honour attrs.validators.set_disabled() through its public getter, asked only when an inline
    # test fails: a value that passes its test passes its validator, so skipping is the same
    passing = " and ".join(f"({test})" for test in tests) if all(tests) else ""
    check = f"    if not ({passing}) and not _disabled():" if passing else "    if not _disabled():"
    # attrs' order: store every (converted) field, then validate (a validator may read the
    # instance), then the post-init hook
    body = [*convert, *store, *([check, *validate] if validate else [])]
    post_init = getattr(cls, "__attrs_post_init__", None)
    if post_init is not None:
        namespace["_post_init"] = post_init
        call = "    _post_init(self)"
        body.append(f"    if not ({post_init_passes}):\n    {call}" if post_init_passes else call)
    namespace["_new"], namespace["_cls"] = object.__new__, cls
    source = "\n".join(
        [
            f"def __init__(self, *, {', '.join(params)}):",
            *body,
            f"def build({', '.join(positional)}):",
            "    self = _new(_cls)",
            *body,
            "    return self",
        ]
    )
    exec(compile(source, f"<importbridge fast __init__ of {cls.__qualname__}>", "exec"), namespace)
    init, build = namespace["__init__"], namespace["build"]
    original = cls.__init__  # type: ignore[misc]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = original.__doc__
    init.__annotations__ = dict(getattr(original, "__annotations__", {}))
    build.__qualname__ = f"{cls.__qualname__}.build"
    cls.__attrs_generated_init__ = original  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    result: Callable[..., Any] = build
    return result


def _passes_expression(
    validator: Any,
    name: str,
    index: int,
    passes: Mapping[Any, str],
    namespace: dict[str, Any],
) -> str | None:
    """An inline test that implies ``validator`` accepts the value, or None (always call it)."""
    expression = passes.get(validator)
    if expression is not None:
        return expression.format(v=name)
    wanted = getattr(validator, "type", None)
    if type(validator).__name__ == "_InstanceOfValidator" and isinstance(wanted, type):
        namespace[f"_t{index}"] = wanted
        return f"type({name}) is _t{index}"
    return None
