"""``python -m verify``: the same as the ``ntk-verify`` console script."""

import sys

from .cli import main

sys.exit(main())
