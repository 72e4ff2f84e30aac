"""Settings dataclasses seen flat: every field of a settings class and of the settings classes nested in it,
by one name each, with the text of its attribute docstring.

A method's settings (`synthesis.search.HcConfig`, ...) nest other settings (`LlmGsConfig.llm` is a
`synthesis.llm.client.LlmSettings`), but YAML files, `config.yaml` and the command line name every setting
by its own field name (`model`, not `llm.model`): `flat_fields` lists them (a name used twice is an
error), `to_flat` and `from_flat` convert between the two views. Field docstrings (a string right under the
field) are the help texts of the command line (`synthesis.cli`).
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

import docstring_parser


class SettingsError(ValueError):
    """A setting that is unknown or has a value it cannot take; the message names the setting."""


@dataclass(frozen=True)
class FlatField:
    name: str
    type: Any  # the field's resolved annotation
    default: Any
    doc: str  # the field's docstring, on one line
    path: tuple[str, ...]  # the nested fields leading to it: ("llm", "model")


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The attribute docstrings of `cls` and its bases, each on one line."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            params = docstring_parser.parse_from_object(klass).params
        except (OSError, TypeError):  # no source (a class made at run time): no texts
            continue
        docs.update({p.arg_name: " ".join(p.description.split()) for p in params if p.description})
    return docs


@cache
def flat_fields(cls: type) -> dict[str, FlatField]:
    """Every setting of `cls` by name, nested settings classes expanded in place."""
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    flat: dict[str, FlatField] = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if inspect.isclass(kind) and dataclasses.is_dataclass(kind):
            inner = {
                name: dataclasses.replace(sub, path=(f.name, *sub.path)) for name, sub in flat_fields(kind).items()
            }
        else:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            inner = {f.name: FlatField(f.name, kind, default, docs.get(f.name, ""), (f.name,))}
        for name, field in inner.items():
            if name in flat:
                raise TypeError(f"{cls.__name__}: setting {name!r} is defined twice")
            flat[name] = field
    return flat


def to_flat(settings: Any) -> dict[str, Any]:
    """The settings of a dataclass instance by flat name (nested ones expanded), in field order."""
    flat = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            flat.update(to_flat(value))
        else:
            flat[f.name] = list(value) if isinstance(value, tuple | list) else value
    return flat


def from_flat(cls: type, values: dict[str, Any], owner: str | None = None) -> Any:
    """An instance of `cls` from flat settings (missing ones take their defaults); a name that is not a
    setting of `cls` is a `SettingsError` naming it and `owner` (what the settings belong to)."""
    known = flat_fields(cls)
    unknown = [name for name in values if name not in known]
    if unknown:
        what = owner or cls.__name__
        raise SettingsError(f"{', '.join(unknown)} {'is not a setting' if len(unknown) == 1 else 'are not settings'}"
                            f" of {what}; its settings: {', '.join(known) or 'none'}")  # fmt: skip
    return _build(cls, values)


def _build(cls: type, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if inspect.isclass(kind) and dataclasses.is_dataclass(kind):
            kwargs[f.name] = _build(kind, values)
        elif f.name in values:
            kwargs[f.name] = values[f.name]
    return cls(**kwargs)


def choice(name: str, value: Any, known: typing.Iterable[str]) -> None:
    """`value` must be one of `known`, else a `SettingsError` listing them."""
    known = tuple(known)
    if value not in known:
        raise SettingsError(f"unknown {name} {value!r}; known: {', '.join(known)}")


def positive(owner: str, **values: float) -> None:
    """Every value must be > 0, else a `SettingsError` naming the first that is not."""
    for name, value in values.items():
        if not value > 0:
            raise SettingsError(f"{owner}: {name} must be positive, got {value}")


__all__ = ["FlatField", "SettingsError", "choice", "field_docs", "flat_fields", "from_flat", "positive", "to_flat"]
