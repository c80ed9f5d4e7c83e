"""Run the CLI with `python -m voltstream`."""

import sys

from voltstream.cli import main

sys.exit(main())
