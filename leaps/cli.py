"""`leaps` console script. Its subcommands (`fit`, `validate`, `test` through LightningCLI) are not in this
release yet; the command explains that instead of failing with an import error."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("leaps: the program-VAE commands (fit, validate, test) are not available in this release", file=sys.stderr)
    return 2
