"""``python -m benchmark``: the astrobench command line."""

import os
import sys


def _drop_working_folder() -> None:
    """Take the working folder off ``sys.path`` (``python -m`` puts it first).

    A folder of the user's named ``features/``, ``deep/``, ``reports/`` or
    ``baselines/`` there would otherwise shadow astrobench's own packages.  It stays
    when it is astrobench's source folder itself.
    """
    home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cwd = os.getcwd()
    if os.path.abspath(cwd) != home:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != cwd]


_drop_working_folder()

from benchmark.cli import main  # noqa: E402

sys.exit(main())
