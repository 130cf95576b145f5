"""``python -m verify``: the same as the ``ntk-verify`` console script."""

import sys

from verify.cli import main

sys.exit(main())
