import sys

from karel.cli import main

sys.exit(main())
