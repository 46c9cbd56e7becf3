"""``python -m taco.train`` (also under ``torchrun -m taco.train``)."""

import sys

from .cli import main

sys.exit(main())
