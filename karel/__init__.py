"""The Karel domain: worlds, the DSL, the reference interpreter and the benchmark tasks; `karel.minigrid`
holds the MiniGrid domain, whose tasks `make` returns too (`make("LavaGap")`).

Shape letters used across the project (tensor shapes are written `[N, H, W]` etc. in docstrings):
`P` programs, `E` episodes (task instances) per program, `N = P*E` flat batch of worlds, `H`, `W` grid
height and width, `L` tokens, `T` steps, `V` vocabulary, `Z` latent size, `K` population or neighbourhood.
"""

from karel.dsl import Action, Direction, Perception
from karel.interpreter import Episode, Termination, evaluate, mean_return, run_episode, run_task_episode
from karel.parser import ProgramSyntaxError, parse, parse_ids
from karel.program import Program, to_text
from karel.tasks import TASKS, Task, make
from karel.world import World, Worlds

make_task = make

__all__ = [
    "TASKS", "Action", "Direction", "Episode", "Perception", "Program", "ProgramSyntaxError", "Task",
    "Termination", "World", "Worlds", "evaluate", "make", "make_task", "mean_return", "parse", "parse_ids",
    "run_episode", "run_task_episode", "to_text",
]  # fmt: skip
