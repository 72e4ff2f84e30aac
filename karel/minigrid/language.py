"""The MiniGrid DSL of LLM-GS (`reference/llm_gs.md` 6.1): the Karel statement grammar over MiniGrid's
actions and perceptions.

    actions      left | right | forward | pickup | drop | toggle      (MiniGrid's action ids 0..5)
    perceptions  front_is_clear | is_carrying_object
                 front_object_type h( type h) | front_object_color h( colour h)

`front_is_clear` is true when the cell in front is empty or can be walked onto (lava, the goal and an open
door count as clear). The parametric perceptions compare the type or colour of the object in front (false
in front of an empty cell). The parser accepts every MiniGrid object type and colour as an argument; the
search draws the ones the reference draws (lava, door, ball, box; red, blue).

Search distribution (`MinigridDSL` and `MinigridProgrammaticSpace`): a condition is a perception or
`not` of one with probability .5 each; perceptions front_is_clear .125, front_object_type .5 (its type
uniform over the four), front_object_color .25 (red or blue), is_carrying_object .125; actions left .15,
right .15, forward .5, pickup .08, drop .08, toggle .04. An episode stops after 1,000 calls.
"""

from __future__ import annotations

from enum import IntEnum

from karel.language import Language
from karel.program import Act, Feature


class Action(IntEnum):
    """MiniGrid actions with the ids of `minigrid.core.actions.Actions` (`done` is not in the DSL)."""

    left = 0
    right = 1
    forward = 2
    pickup = 3
    drop = 4
    toggle = 5


class Perception(IntEnum):
    front_is_clear = 0
    front_object_type = 1
    front_object_color = 2
    is_carrying_object = 3


OBJECT_TYPES = ("wall", "floor", "door", "key", "ball", "box", "goal", "lava")  # accepted arguments
COLORS = ("red", "green", "blue", "purple", "yellow", "grey")
SEARCH_OBJECT_TYPES = ("lava", "door", "ball", "box")  # drawn by the search, uniformly
SEARCH_COLORS = ("red", "blue")
MAX_CALLS = 1_000  # actions plus perception queries per episode (LLM-GS `--max_calls`)

MINIGRID = Language(
    name="minigrid",
    actions=Action,
    perceptions=Perception,
    arguments={"front_object_type": OBJECT_TYPES, "front_object_color": COLORS},
    action_probs={
        Act(Action.left): 0.15, Act(Action.right): 0.15, Act(Action.forward): 0.5,
        Act(Action.pickup): 0.08, Act(Action.drop): 0.08, Act(Action.toggle): 0.04,
    },
    feature_probs={
        Feature(Perception.front_is_clear): 0.125,
        **{Feature(Perception.front_object_type, t): 0.5 / len(SEARCH_OBJECT_TYPES) for t in SEARCH_OBJECT_TYPES},
        **{Feature(Perception.front_object_color, c): 0.25 / len(SEARCH_COLORS) for c in SEARCH_COLORS},
        Feature(Perception.is_carrying_object): 0.125,
    },
    not_prob=0.5,
    max_calls=MAX_CALLS,
)  # fmt: skip

__all__ = ["COLORS", "MAX_CALLS", "MINIGRID", "OBJECT_TYPES", "Action", "Perception"]
