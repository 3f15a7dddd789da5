import pytest
import torch
import torch.nn.functional as F

from mer_pipeline.errors import UserError
from mer_pipeline.models import MODELS, create_model, parameter_count
from mer_pipeline.models.meganet import GradientAttention, ResidualAttentionBlock, SelfAttention


@pytest.mark.parametrize("name", MODELS.names())
def test_forward_backward_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, in_chans=6)  # two stacked modalities
    for m in model.modules():
        if isinstance(m, SelfAttention):
            m.gamma.data.fill_(0.5)  # gamma starts at 0, which would zero Q/K/V gradients
    x = torch.randn(2, 6, 48, 48)
    model.eval()  # dropout off: forward == forward_head(forward_features)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.forward_head(model.forward_features(x)))
    model.train()
    logits = model.forward_head(model.forward_features(x))
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()
    F.cross_entropy(logits, torch.tensor([0, 2])).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


def test_gradient_attention_is_input_times_sigmoid_map():
    ga = GradientAttention(1)
    with torch.no_grad():
        ga.conv.weight.zero_()
        ga.conv.weight[0, 0, 1, 1] = 1.0  # the map is sigmoid(G) itself
        ga.conv.bias.zero_()
    x = torch.tensor([[[[0.0, 1.0, 3.0], [2.0, 2.0, 2.0]]]])
    # |horizontal diffs| zero-padded right: [[1, 2, 0], [0, 0, 0]]; |vertical|, padded bottom: [[2, 1, 1], [0, 0, 0]]
    g = torch.tensor([[[[3.0, 3.0, 1.0], [0.0, 0.0, 0.0]]]])
    torch.testing.assert_close(ga.attention_map(x), torch.sigmoid(g))
    torch.testing.assert_close(ga(x), x * torch.sigmoid(g))


def test_self_attention_gamma_is_learnable_and_starts_as_identity():
    sa = SelfAttention(16)
    assert isinstance(sa.gamma, torch.nn.Parameter) and sa.gamma.requires_grad and sa.gamma.item() == 0
    x = torch.randn(2, 16, 5, 5)
    torch.testing.assert_close(sa(x), x)
    assert sa.q.out_channels == 2 and sa.v.out_channels == 16


def test_ablation_switches_remove_what_they_name():
    full = create_model("meganet", 3)
    assert isinstance(full.gradient_attention, GradientAttention)
    assert sum(isinstance(m, SelfAttention) for m in full.modules()) == 3
    assert create_model("meganet", 3, gradient_attention=False).gradient_attention is None
    no_sa = create_model("meganet", 3, self_attention=False)
    assert not any(isinstance(m, SelfAttention) for m in no_sa.modules())
    no_res = create_model("meganet", 3, residual=False)
    blocks = [m for m in no_res.modules() if isinstance(m, ResidualAttentionBlock)]
    assert all(not b.residual and isinstance(b.shortcut, torch.nn.Identity) for b in blocks)
    block = blocks[1]  # changes width: with the residual path the projection shortcut exists
    assert isinstance(
        [m for m in full.modules() if isinstance(m, ResidualAttentionBlock)][1].shortcut, torch.nn.Sequential
    )
    block.eval()
    x = torch.randn(1, 64, 8, 8)
    torch.testing.assert_close(block(x), F.relu(block.attention(block.body(x))))  # no x added back


@pytest.mark.parametrize("blocks,width,size", [(2, 128, 28), (3, 256, 14), (4, 512, 7)])
def test_block_count_widths_and_map_sizes(blocks, width, size):
    model = create_model("meganet", 3, blocks=blocks)
    assert len(model.blocks) == blocks and model.num_features == width
    assert model.forward_features(torch.randn(1, 3, 224, 224)).shape == (1, width, size, size)


def test_parameter_count_and_bad_params():
    assert parameter_count(create_model("meganet", 3)) == 1_341_586  # quoted in docs/training.md
    with pytest.raises(UserError, match="model_params: unknown key"):
        create_model("meganet", 3, block=3)
    with pytest.raises(UserError, match="unknown model 'resnet18'"):
        create_model("resnet18", 3)


def test_pretrained_weights_come_from_a_local_file(tmp_path):
    import torchvision

    with pytest.raises(UserError, match="pretrained weights file not found"):
        create_model("resnet50", 3, pretrained_path=str(tmp_path / "none.pth"))
    ref = torchvision.models.resnet50(weights=None)
    torch.save(ref.state_dict(), tmp_path / "r50.pth")
    model = create_model("resnet50", 3, pretrained_path=str(tmp_path / "r50.pth"))
    torch.testing.assert_close(model.body[4][0].conv1.weight, ref.layer1[0].conv1.weight)


class Payload:
    """A pickled object inside a weights file: loading it would run code."""

    def __reduce__(self):
        return (print, ("unpickled!",))


def test_a_pickled_pretrained_file_is_refused_in_one_line(tmp_path, capsys):
    torch.save({"conv.weight": torch.zeros(1), "extra": Payload()}, tmp_path / "pickled.pth")
    with pytest.raises(UserError, match=r"pickled.pth: not a plain state-dict file of weights \(UnpicklingError\)"):
        create_model("vgg19", 3, pretrained_path=str(tmp_path / "pickled.pth"))
    (tmp_path / "text.pth").write_text("not torch")
    with pytest.raises(UserError, match="text.pth: not a plain state-dict file"):
        create_model("vgg19", 3, pretrained_path=str(tmp_path / "text.pth"))
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(UserError, match="list.pth: holds a list, not a state dict"):
        create_model("vgg19", 3, pretrained_path=str(tmp_path / "list.pth"))
    assert "unpickled!" not in capsys.readouterr().out
