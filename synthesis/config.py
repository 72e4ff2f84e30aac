"""The settings of one search run: what every run has (task, method, seed, budget, ...) and the method's own
settings (`settings`, an instance of the method's `Config`: `synthesis.search.HcConfig`, ...).

    RunConfig(task="TopOff", method="shc", budget=100_000)                        # the method's defaults
    RunConfig(task="TopOff", method="cem", settings=CemConfig(population=64))
    RunConfig.from_flat({"task": "TopOff", "method": "cem", "population": 64})    # YAML's and config.yaml's view

A config is checked when it is made: a bad value is a `SettingsError` (a `ValueError`) naming the setting.
Flat, every setting is named by its field name (`synthesis.settings`): configs/search/*.yaml, a run
folder's config.yaml and the command line use that view, and a setting that is not the method's is an error
naming the method's settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from karel.leaps_protocol import leaps_task
from karel.tasks import MAX_INSTANCES, make
from synthesis.methods import LATENT_METHODS, method
from synthesis.protocol import PROTOCOLS
from synthesis.settings import SettingsError, choice, flat_fields, from_flat, to_flat

DEVICES = ("cpu", "cuda")


@dataclass
class RunConfig:
    """One search run (YAML under configs/search/, overridable on the command line)."""

    task: str = "StairClimberSparse"
    """task name (karel.TASKS; MiniGrid tasks for hc, shc, random and llm-gs)"""
    method: str = "shc"
    """search method: hc, shc, random, llm-gs, cem, cebs"""
    seed: int = 0
    """search seed (the RNG of mutations, random programs and latents; the task instances are always 0..N-1)"""
    budget: int | None = None
    """program evaluations (one = the mean return over the task instances); default 1,000,000 on Karel
    tasks, 10,000 on MiniGrid tasks"""
    instances: int = 32
    """task instances 0..N-1 per evaluation (llm-gs protocol)"""
    device: str = "cpu"
    """executor device: cpu | cuda"""
    protocol: str = "llm-gs"
    """evaluation protocol: llm-gs (LLM-GS's tasks and returns) | leaps (LEAPS' own, its six tasks)"""
    topoff_reset_quirk: bool = True
    """--protocol leaps: TopOff's redrawn worlds keep a marker on the last cell, as LEAPS' reset"""
    settings: Any = None
    """the method's own settings, an instance of its Config (None: its defaults)"""

    def __post_init__(self):
        choice("protocol", self.protocol, PROTOCOLS)
        search = method(self.method, self.protocol)
        if self.settings is None:
            self.settings = search.Config()
        if type(self.settings) is not search.Config:
            raise SettingsError(f"{self.method} takes {search.Config.__name__} settings, "
                                f"not {type(self.settings).__name__}")  # fmt: skip
        task = make(self.task)  # an unknown name lists the known ones
        if self.protocol == "leaps":
            leaps_task(self.task)  # one of LEAPS' six tasks, or an error naming them
        if task.domain != "karel" and self.method in LATENT_METHODS:
            raise SettingsError(f"{self.method} searches the latent space of a Karel program VAE; {self.task} is "
                                "a MiniGrid task (use hc, shc, random or llm-gs)")  # fmt: skip
        if self.budget is None:
            self.budget = task.default_budget
        if self.budget < 1:
            raise SettingsError(f"budget must be positive, got {self.budget:,}")
        if not 0 <= self.seed < 2**32:  # the seed range of NumPy's and LEAPS' generators
            raise SettingsError(f"seed must be in 0 .. 2^32 - 1, got {self.seed:,}")
        if not 1 <= self.instances <= MAX_INSTANCES:
            raise SettingsError(f"instances must be in 1 .. {MAX_INSTANCES:,}, got {self.instances:,}")
        choice("device", self.device, DEVICES)
        if self.device not in task.devices:
            raise SettingsError(f"{self.task} runs on {', '.join(task.devices)} only, not {self.device}")
        self.settings.validate()

    @property
    def search_class(self):
        return method(self.method, self.protocol)

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name: what config.yaml holds."""
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        return {**shared, **to_flat(self.settings)}

    @classmethod
    def from_flat(cls, values: dict[str, Any], *, drop_foreign: bool = False) -> RunConfig:
        """A config from flat settings; a setting the method does not have is a `SettingsError`, or, with
        `drop_foreign` (a sweep's settings shared by several methods), left out."""
        shared = {name: values[name] for name in RUN_SETTINGS if name in values}
        probe = cls.__dataclass_fields__
        name = shared.get("method", probe["method"].default)
        protocol = shared.get("protocol", probe["protocol"].default)
        search = method(name, protocol)
        own = {k: v for k, v in values.items() if k not in RUN_SETTINGS}
        if drop_foreign:
            own = {k: v for k, v in own.items() if k in flat_fields(search.Config)}
        where = name if protocol == "llm-gs" else f"{name} under --protocol {protocol}"
        return cls(**shared, settings=from_flat(search.Config, own, owner=where))


RUN_SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name != "settings")

__all__ = ["DEVICES", "RUN_SETTINGS", "RunConfig"]
