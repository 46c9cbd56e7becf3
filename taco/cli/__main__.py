"""``python -m taco.cli ...``: the ``taco`` command (as ``python -m taco``)."""

import sys

from taco.cli import main

sys.exit(main())
