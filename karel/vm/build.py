"""Compile the VM's plain functions for one target: the CPU (numba `njit`) or CUDA (numba CUDA device
functions), from one source.

The VM modules (`grid`, `rules`, `machine`) hold undecorated Python functions and list them in
`COMPILED`. `build(jit)` makes one namespace holding every constant of `ops` and every listed function
re-created over that namespace and wrapped by `jit`, so the functions call each other's compiled forms on
the same target. The code therefore keeps to what both targets compile: no allocation (every scratch array
is an argument), no array expressions or slice assignment, explicit loops, scalar tuples as results, and
integer arithmetic that stays below 2^63. The task rule is a run-time argument, so one build serves every
task (one compilation per target, not one per task family).
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path

from karel.vm import grid, machine, ops, rules

MODULES = (grid, rules, machine)


def build(jit, entry_jit=None) -> dict:
    """The namespace of the VM, its functions compiled with `jit` (name -> compiled function); the entry
    points (`machine.ENTRIES`) with `entry_jit` if given."""
    namespace: dict = {name: value for name, value in vars(ops).items() if name.isupper()}
    namespace.update({name: getattr(machine, name) for name in ("NEW", "SEEN", "FULL")})
    for module in MODULES:
        for name in module.COMPILED:
            source = getattr(module, name)
            function = types.FunctionType(source.__code__, namespace, name, source.__defaults__)
            function.__module__, function.__qualname__, function.__doc__ = module.__name__, name, source.__doc__
            entry = name in machine.ENTRIES and entry_jit is not None
            namespace[name] = entry_jit(function) if entry else jit(function)
    return namespace


def source_digest() -> int:
    """A 62-bit digest of the VM's sources: the CPU driver's on-disk cache key includes it, so editing any
    VM module recompiles the driver (numba's cache alone only watches the driver's own file)."""
    digest = hashlib.sha256()
    for module in (ops, *MODULES):
        digest.update(Path(module.__file__).read_bytes())
    return int.from_bytes(digest.digest()[:8], "little") >> 2
