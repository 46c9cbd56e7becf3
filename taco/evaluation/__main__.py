"""``python -m taco.evaluation evaluate|plot|caption ...``: the ``taco`` command line with the
evaluation commands registered (also ``torchrun --nproc_per_node N -m taco.evaluation evaluate``)."""

import sys

from taco import cli

if "taco.evaluation.cli" not in cli.COMMAND_MODULES:
    cli.COMMAND_MODULES = (*cli.COMMAND_MODULES, "taco.evaluation.cli")
sys.exit(cli.main())
