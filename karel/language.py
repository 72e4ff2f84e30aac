"""The words of one domain's DSL and the search distribution over them.

Karel and MiniGrid programs share the statement grammar (WHILE, REPEAT, IF, IFELSE, `not`, blocks) and
differ in their actions and perceptions. A `Language` names those, the accepted arguments of parametric
perceptions (MiniGrid's `front_object_type h( lava h)`), the leaf probabilities of the program-space
search (`karel.sampler`), and the episode's call budget. The parser, the samplers, the neighbourhood and
the LLM readers take a language; Karel is the default everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from karel.dsl import MAX_CALLS, Action, Perception
from karel.program import Act, Feature


@dataclass(frozen=True, eq=False)
class Language:
    """One domain's vocabulary (compared by identity)."""

    name: str
    actions: type[IntEnum]
    perceptions: type[IntEnum]
    arguments: Mapping[str, tuple[str, ...]]  # parametric perception name -> accepted arguments
    action_probs: Mapping[Act, float]  # search distribution of an action statement
    feature_probs: Mapping[Feature, float]  # search distribution of a bare condition
    not_prob: float  # a condition is `not c( feature c)` with this probability (where `not` is allowed)
    max_calls: int  # actions plus perception queries per episode

    def action(self, name: str) -> IntEnum | None:
        return self.actions.__members__.get(name)

    def perception(self, name: str) -> IntEnum | None:
        return self.perceptions.__members__.get(name)

    def is_parametric(self, perception: IntEnum) -> bool:
        return perception.name in self.arguments


KAREL = Language(
    name="karel",
    actions=Action,
    perceptions=Perception,
    arguments={},
    action_probs={
        Act(Action.move): 0.5, Act(Action.turnRight): 0.15, Act(Action.turnLeft): 0.15,
        Act(Action.pickMarker): 0.1, Act(Action.putMarker): 0.1,
    },
    feature_probs={
        Feature(Perception.frontIsClear): 0.5, Feature(Perception.leftIsClear): 0.15,
        Feature(Perception.rightIsClear): 0.15, Feature(Perception.markersPresent): 0.1,
        Feature(Perception.noMarkersPresent): 0.1,
    },
    not_prob=0.1,
    max_calls=MAX_CALLS,
)  # fmt: skip


__all__ = ["KAREL", "Language"]
