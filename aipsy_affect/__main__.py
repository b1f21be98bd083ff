"""``python -m aipsy_affect``: the same command line as ``aipsy-affect``."""

import sys

from aipsy_affect.cli.main import main

sys.exit(main())
