"""``python -m taco.evaluation evaluate|plot|caption ...``: the ``taco`` command line with the
evaluation commands registered (also ``torchrun --nproc_per_node N -m taco.evaluation evaluate``)."""

import sys

from taco import cli

sys.exit(cli.main())  # taco.evaluation.cli is one of cli.COMMAND_MODULES
