"""Karel DSL vocabulary: LEAPS token ids, actions, perceptions, directions and program-size limits.

Token ids follow the LEAPS release (clvrai/leaps, `mapping_karel2prl.txt`); the HDF5 dataset and every
checkpoint use them. Action ids follow the LEAPS dataset (`karel_env/karel.py`), which differs from the
token order (`turnRight` precedes `turnLeft` among tokens).
"""

from enum import IntEnum

TOKENS: tuple[str, ...] = (
    "DEF", "run", "m(", "m)",
    "move", "turnRight", "turnLeft", "pickMarker", "putMarker",
    "r(", "r)", *(f"R={n}" for n in range(20)), "REPEAT",
    "c(", "c)", "i(", "i)", "e(", "e)", "IF", "IFELSE", "ELSE",
    "frontIsClear", "leftIsClear", "rightIsClear", "markersPresent", "noMarkersPresent",
    "not", "w(", "w)", "WHILE",
)  # fmt: skip
TOKEN_ID: dict[str, int] = {token: i for i, token in enumerate(TOKENS)}
PAD_ID = 50  # pad / end-of-program id used by models; not a DSL token
VOCAB_SIZE = 51


class Action(IntEnum):
    """Agent actions with the LEAPS dataset ids; 5 is the models' no-op (`NOOP_ACTION`)."""

    move = 0
    turnLeft = 1
    turnRight = 2
    pickMarker = 3
    putMarker = 4


NOOP_ACTION = 5


class Perception(IntEnum):
    """Boolean perceptions, in the order of the LEAPS perception vector."""

    frontIsClear = 0
    leftIsClear = 1
    rightIsClear = 2
    markersPresent = 3
    noMarkersPresent = 4


class Direction(IntEnum):
    """Agent headings; row grows downward, so North is row - 1."""

    N = 0
    E = 1
    S = 2
    W = 3


# (row, col) offset of one step in each Direction.
DIRECTION_STEP: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))

MAX_MARKERS = 10  # markers per cell; putMarker on a full cell is illegal
MAX_CALLS = 10_000  # actions plus perception queries per episode
MAX_REPEAT = 19  # REPEAT counts are R=0 .. R=19

# Program-space search limits (SPEC section 3; LLM-GS `programmatic_space.py`).
MAX_NESTING = 3  # nested control structures
MAX_BLOCK_LENGTH = 6  # statements in one block
MAX_TOKENS = 45  # tokens including `DEF run m( ... m)`
