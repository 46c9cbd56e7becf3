"""``python -m taco.train`` (also under ``torchrun -m taco.train``): ``taco train`` with these
arguments, through the one command line (its error lines, warnings and exit statuses)."""

import sys

from taco.cli import run

run(["train", *sys.argv[1:]])
