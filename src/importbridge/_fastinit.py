"""A faster ``__init__`` for frozen, slotted attrs models, with exactly attrs' semantics.

Adapters build one ``ImportJob`` per poll and one ``RowResult`` per reported row (tens of
thousands for a large import), so construction cost is on the hot path. attrs' generated
``__init__`` for frozen classes stores each field through ``object.__setattr__`` and calls every
validator and converter as a function. The replacement generated here does the same work in the
same order (all converters, then every field stored, then every validator in field order unless
``attrs.validators.set_disabled(True)``, then ``__attrs_post_init__`` if the class has one), but
stores the fields as plain attribute stores on an *open twin* of the class (below) and, for the
validators and converters it is told about, first tries an inline expression that is true exactly
when the full check would pass. Whatever fails the inline test goes to the original validator or
converter, so errors and edge cases stay attrs' own.

The open twin is a subclass with the same slots (``__slots__ = ()``) and plain ``object``
attribute setting. Stored into as the twin, ``self.field = value`` is the interpreter's
specialised slot store (a few nanoseconds), where a frozen class needs a descriptor call per
field (tens: for the 25 of ``ImportJob``, half as much as decoding its payload). The instance is
turned into the class itself (``__class__`` assignment, which CPython allows between classes of
one layout) before any validator, converter or caller sees it. An instance of a subclass of the
model goes through the slot descriptors as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MemberDescriptorType
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
    keyword_only: bool = False,
) -> Callable[..., Any]:
    """Replace ``cls.__init__`` (an attrs-generated, keyword-only one) by an equivalent, faster one.

    Returns a builder with the same checks that skips the type call (which hands an
    ``__init__`` its keywords as a fresh dict): positional, ``build(field1, field2, ...)`` in
    field order (defaults only after the last required field), for loops that make thousands of
    instances; or, with ``keyword_only``, with exactly the constructor's signature.

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
    store: list[str] = []  # through the slot descriptors (an instance of a subclass)
    open_store: list[str] = []  # as the open twin
    slots: dict[str, MemberDescriptorType] = {}
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
        test = None
        if field.validator is not None:
            namespace[f"_v{index}"] = field.validator
            namespace[f"_a{index}"] = field
            call = f"_v{index}(self, _a{index}, {name})"
            test = _passes_expression(field.validator, name, index, passes, namespace)
            validate.append(f"        if not ({test}):\n            {call}" if test else f"        {call}")
        if field.converter is not None:
            namespace[f"_c{index}"] = field.converter
            shortcut = unchanged.get(field.converter)
            call = f"{name} = _c{index}({name})"
            if shortcut is None:
                convert.append(f"    {call}")
            elif shortcut.format(v=name) == test:  # a value left as it is passes: test it once
                convert.append(f"    if not ({test}):\n        {call}\n        _converted = True")
                test = ""
            else:
                convert.append(f"    if not ({shortcut.format(v=name)}):\n        {call}")
        if field.validator is not None:
            tests.append(test)
        slot = getattr(cls, name)
        if type(slot) is not MemberDescriptorType:
            raise TypeError(f"{cls.__name__}.{name}: not a slot, unsupported for a fast __init__")
        slots[name] = slot
        namespace[f"_s{index}"] = slot.__set__
        store.append(f"        _s{index}(self, {name})")
        open_store.append(f"    self.{name} = {name}")
    # honour attrs.validators.set_disabled() through its public getter, asked only when an inline
    # test fails: a value that passes its test passes its validator, so skipping is the same
    # (a test its converter's shortcut already made, "" here, is left out: ``_converted`` is
    # true when such a test failed)
    passing = ""
    if None not in tests:
        made = ["not _converted"] if "" in tests else []
        passing = " and ".join([*made, *(f"({test})" for test in tests if test)])
    if "" in tests:
        convert.insert(0, "    _converted = False")
    check = f"    if not ({passing}) and not _disabled():" if passing else "    if not _disabled():"
    # attrs' order: store every (converted) field, then validate (a validator may read the
    # instance), then the post-init hook
    checks = [check, *validate] if validate else []
    namespace["_Open"], namespace["_set_class"] = _open_twin(cls, slots), object.__setattr__
    init_body = [
        *convert,
        "    if type(self) is _cls:",
        "        _set_class(self, '__class__', _Open)",
        *(f"    {line}" for line in open_store),
        "        self.__class__ = _cls",
        "    else:",
        *store,
        *checks,
    ]
    build_body = [*convert, "    self = _new(_Open)", *open_store, "    self.__class__ = _cls", *checks]
    tail: list[str] = []
    post_init = getattr(cls, "__attrs_post_init__", None)
    if post_init is not None:
        namespace["_post_init"] = post_init
        call = "    _post_init(self)"
        tail.append(f"    if not ({post_init_passes}):\n    {call}" if post_init_passes else call)
    namespace["_new"], namespace["_cls"] = object.__new__, cls
    source = "\n".join(
        [
            f"def __init__(self, *, {', '.join(params)}):",
            *init_body,
            *tail,
            f"def build({'*, ' + ', '.join(params) if keyword_only else ', '.join(positional)}):",
            *build_body,
            *tail,
            "    return self",
        ]
    )
    exec(compile(source, f"<importbridge fast __init__ of {cls.__qualname__}>", "exec"), namespace)
    init, build = namespace["__init__"], namespace["build"]
    original = cls.__init__  # type: ignore[misc]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = original.__doc__
    init.__annotations__ = dict(getattr(original, "__annotations__", {}))
    build.__qualname__ = f"{cls.__qualname__}.of"  # the models publish their builder as ``of``
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


def _open_twin(cls: type, slots: Mapping[str, MemberDescriptorType]) -> type:
    """A subclass of ``cls`` of the same layout whose instances take plain attribute stores.

    Its own ``__setattr__`` / ``__delattr__`` are ``object``'s, so attribute stores are the
    interpreter's specialised slot stores; each field's slot descriptor sits in its namespace,
    so a descriptor the model later puts over a slot (``_deferred.DeferredSlot``) is bypassed
    while building, as the descriptor calls it replaces bypassed it.
    """
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__doc__": f"{cls.__name__} while its fast __init__ stores its fields (never seen outside it).",
        "__module__": cls.__module__,
        **slots,
    }
    return type(f"_Open{cls.__name__}", (cls,), namespace)
