"""MiniGrid, LLM-GS's second domain: its DSL (`language`), the three tasks as `minigrid` environments
(`envs`, `tasks`) and the program interpreter (`interpreter`)."""

from karel.minigrid.language import MINIGRID
from karel.minigrid.tasks import TASKS, MiniGridTask

__all__ = ["MINIGRID", "TASKS", "MiniGridTask"]
