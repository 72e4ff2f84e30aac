"""`synthesis` console script. Its subcommands (`search`, `sweep`, `report`, `revise`) are not in this
release yet; the command explains that instead of failing with an import error."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("synthesis: the search commands (search, sweep, report, revise) are not available in this release",
          file=sys.stderr)  # fmt: skip
    return 2
