import sys

from leaps.cli import main

sys.exit(main())
