import pytest
import torch

from mer_pipeline.errors import UserError
from mer_pipeline.models import create_model
from mer_pipeline.training.checkpoint import load_checkpoint, save_checkpoint

META = {
    "model": "meganet",
    "num_classes": 3,
    "in_chans": 3,
    "model_params": {"blocks": 2},
    "class_names": ["a", "b", "c"],
    "modalities": ["mesti"],
    "input_size": 64,
    "package_version": "0",
    "fold": "s1",
}


def test_round_trip_weights_only(tmp_path):
    model = create_model("meganet", 3, blocks=2)
    save_checkpoint(tmp_path / "c.pt", model, META)
    state, meta = load_checkpoint(tmp_path / "c.pt", "meganet", 3)
    assert meta == META
    other = create_model("meganet", 3, blocks=2)
    other.load_state_dict(state)
    torch.testing.assert_close(other.fc.weight, model.fc.weight)


def test_other_architecture_or_class_count_fails_clearly(tmp_path):
    save_checkpoint(tmp_path / "c.pt", create_model("meganet", 3, blocks=2), META)
    with pytest.raises(UserError, match="checkpoint is for model 'meganet' with 3 classes, expected 'vgg19' with 3"):
        load_checkpoint(tmp_path / "c.pt", "vgg19", 3)
    with pytest.raises(UserError, match="expected 'meganet' with 5"):
        load_checkpoint(tmp_path / "c.pt", "meganet", 5)


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path, capsys):
    torch.save({"state_dict": {}, "meta": META, "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(UserError, match="not a weights-only checkpoint"):
        load_checkpoint(tmp_path / "evil.pt", "meganet", 3)
    assert "must never run" not in capsys.readouterr().out


def test_metadata_is_required():
    with pytest.raises(ValueError, match="lacks"):
        save_checkpoint(__import__("pathlib").Path("/tmp/x.pt"), create_model("meganet", 3), {"model": "meganet"})
