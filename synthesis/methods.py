"""The search methods by protocol and name: `METHODS[protocol][name]` is the method's `Search` class, whose
`Config` is its settings dataclass and whose `from_config` builds it.

Under `llm-gs` (LLM-GS's tasks and returns) every method runs; under `leaps` (LEAPS' own evaluation) only
LEAPS' CEM, as `cem`.
"""

from __future__ import annotations

from synthesis.latent import LatentCebs, LatentCem, LeapsCem
from synthesis.llm_gs import LlmGs
from synthesis.protocol import PROTOCOLS
from synthesis.search import HillClimbing, RandomSearch, ScheduledHillClimbing, Search
from synthesis.settings import SettingsError, choice

METHODS: dict[str, dict[str, type[Search]]] = {
    "llm-gs": {
        "hc": HillClimbing,
        "shc": ScheduledHillClimbing,
        "random": RandomSearch,
        "llm-gs": LlmGs,
        "cem": LatentCem,
        "cebs": LatentCebs,
    },
    "leaps": {"cem": LeapsCem},
}
METHOD_NAMES = tuple(METHODS["llm-gs"])
LATENT_METHODS = ("cem", "cebs")  # search the latent space of a Karel program VAE


def method(name: str, protocol: str = "llm-gs") -> type[Search]:
    """The `Search` class of method `name` under `protocol`; an unknown one is a `SettingsError` naming the
    known ones."""
    choice("protocol", protocol, PROTOCOLS)
    known = METHODS[protocol]
    if name not in known:
        if protocol != "llm-gs" and name in METHODS["llm-gs"]:
            raise SettingsError(f"the {protocol} protocol runs {', '.join(known)} only (its own evaluation), "
                                f"not {name}")  # fmt: skip
        raise SettingsError(f"unknown method {name!r}; known: {', '.join(known)}")
    return known[name]


__all__ = ["LATENT_METHODS", "METHODS", "METHOD_NAMES", "method"]
