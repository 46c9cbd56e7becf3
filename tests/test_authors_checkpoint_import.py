"""What an authors' checkpoint may hold (taco.official.import_checkpoint): its text values kept
whole up to 200 characters, its best_*_path entries not copied, and refusals of a channel group
over MAX_GROUPS, an integer tensor for a float weight and a tensor repeating its storage; a
state of taco's own adapter weights is told it is taco's own, and a taco checkpoint, a
state-dict key that is no name and a view over fewer bytes than its values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from taco.models import CheckpointError
from taco.models.config import MAX_GROUPS
from taco.official import import_checkpoint

GOLDEN = Path(__file__).resolve().parent / "data" / "official" / "taco-tiny.pth.tar"


def golden() -> dict:
    return torch.load(GOLDEN, weights_only=True)


@pytest.fixture(scope="module")
def imported_with_text(tmp_path_factory):
    obj = golden()
    obj["best_note"] = "n" * 199 + "!"  # 200 characters: kept whole
    obj["best_long"] = "l" * 200 + "!"  # 201: cut
    path = tmp_path_factory.mktemp("o") / "text.pth.tar"
    torch.save(obj, path)
    return import_checkpoint(path, "clip-tiny")


def test_a_value_of_source_text_chars_is_kept_whole(imported_with_text):
    assert imported_with_text.metadata["source_best_note"] == "n" * 199 + "!"
    assert imported_with_text.metadata["source_best_long"] == "l" * 199 + "…"


def test_best_path_entries_are_not_copied(imported_with_text):
    metadata = imported_with_text.metadata
    assert golden()["best_psnr_model_path"]  # the golden file has them
    assert metadata["source_best_psnr"] == 27.1
    assert not [k for k in metadata if k.endswith("_path")]


def test_one_group_over_max_groups_is_refused_as_such(tmp_path):
    obj = golden()
    obj["state_dict"][f"module.local_context.{MAX_GROUPS}.weight"] = torch.zeros(8, 1, 5, 5)
    path = tmp_path / "wide.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=rf"local_context\.{MAX_GROUPS}\.\*: {MAX_GROUPS + 1} "
                                              rf"channel groups, over the {MAX_GROUPS} of any taco"):
        import_checkpoint(path, "clip-tiny")


def test_an_integer_tensor_for_a_float_weight_is_refused(tmp_path):
    obj = golden()
    key = "module.h_a.reduction.0.weight"
    obj["state_dict"][key] = obj["state_dict"][key].round().to(torch.int32)
    path = tmp_path / "int.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=r"h_a\.0\.weight is torch\.int32 \(expected a real "
                                              r"floating-point tensor\)"):
        import_checkpoint(path, "clip-tiny")


def test_a_tensor_repeating_its_storage_is_refused(tmp_path):
    obj = golden()
    key = "module.h_a.reduction.0.weight"
    shape = obj["state_dict"][key].shape
    obj["state_dict"][key] = torch.zeros(1).expand(shape)  # stride 0: one value, saved as such
    path = tmp_path / "view.pth.tar"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=rf"tensor '{key}' is a view of {shape.numel():,} "
                                              r"values over storage of 4 bytes"):
        import_checkpoint(path, "clip-tiny")


def test_a_state_of_taco_adapter_weights_only_is_told_it_is_taco_own(tmp_path):
    import pytest
    import torch

    import taco
    from taco.official import import_checkpoint

    state = taco.create_model("taco-tiny", seed=0).state_dict()
    adapter = {k: v for k, v in state.items() if k.startswith("g_a.adapter.")}
    assert adapter
    path = tmp_path / "adapter.pth"
    torch.save(adapter, path)
    with pytest.raises(taco.CheckpointError, match=r"a taco model's own state dict \('g_a\.adapter\."):
        import_checkpoint(path)


def test_import_of_a_taco_checkpoint_is_refused(tmp_path, tiny_taco):
    from taco.models import CheckpointError, save_checkpoint
    from taco.official import import_checkpoint

    path = save_checkpoint(tiny_taco, tmp_path / "tiny.safetensors")
    with pytest.raises(CheckpointError, match="a taco checkpoint already, nothing to import"):
        import_checkpoint(path, "clip-tiny")


def test_import_refuses_a_state_dict_key_that_is_no_name(tmp_path):
    import torch

    from taco.models import CheckpointError
    from taco.official import import_checkpoint

    path = tmp_path / "int_key.pth.tar"
    torch.save({"state_dict": {"module.a.weight": torch.zeros(2), 7: torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value) == f"{path}: the state dict holds a non-tensor entry 7"


def test_import_refuses_a_view_over_fewer_bytes_than_its_values(tmp_path):
    """4 float32 values over a storage of 4 bytes (one value expanded): not saved weights."""
    import torch

    from taco.models import CheckpointError
    from taco.official import import_checkpoint

    path = tmp_path / "view.pth.tar"
    torch.save({"state_dict": {"module.a.weight": torch.zeros(1).expand(4)}}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value) == (f"{path}: tensor 'module.a.weight' is a view of 4 values over storage "
                              "of 4 bytes: not a saved model's weights")
