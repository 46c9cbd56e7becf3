"""The TACO authors' code (GitHub effl-lab/TACO): importing their checkpoints (docs/official.md).

    from taco.official import import_checkpoint
    model = import_checkpoint("checkpoint.pth.tar")          # a taco TACO "taco-official", eval mode
    taco.save_checkpoint(model, "taco-official.safetensors")

Importing this package imports no torch (``taco --help`` stays fast); :mod:`.checkpoint` does.
``OutputExists`` is :class:`taco.errors.OutputExists` (naming it in an ``except`` imports no torch).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_names

__all__ = [
    "OutputExists", "compressai_key_to_taco", "convert_state_dict", "import_checkpoint", "import_checkpoint_file", "infer_config",
    "official_key_to_taco", "read_official_state_dict",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers (they import nothing here)
    from ..errors import OutputExists as OutputExists
    from .checkpoint import (
        compressai_key_to_taco as compressai_key_to_taco,
        convert_state_dict as convert_state_dict,
        import_checkpoint as import_checkpoint,
        import_checkpoint_file as import_checkpoint_file,
        infer_config as infer_config,
        official_key_to_taco as official_key_to_taco,
        read_official_state_dict as read_official_state_dict,
    )
else:  # hidden from type checkers: a misspelled name is an error there
    __getattr__, __dir__ = lazy_names(
        __name__, {**dict.fromkeys(__all__, f"{__name__}.checkpoint"), "OutputExists": "taco.errors"}, globals())
