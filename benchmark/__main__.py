"""``python -m benchmark``: the astrobench command line."""

import sys

from .cli import main

sys.exit(main())
