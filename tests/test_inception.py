"""dcgan_core/inception.py: the fast Inception computes the reference TorchScript's features (on real
images), its fused convolution + ReLU computes what the two steps do, its bf16 copy holds bf16
weights, its weights file round-trips (fp16 too), and wrong weights are one clear error."""

import numpy as np
import pytest
import torch

from dcgan_core import inception, metrics
from dcgan_core.data import load_dataset
from dcgan_core.metrics import MetricsError, inception_features


@pytest.fixture(scope="module")
def reference_state():
    return metrics.inception_model("cpu", "reference").state_dict()


def rel_l2(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_fast_features_match_the_reference_torchscript_on_real_images(mirror, shared_cache_dir, monkeypatch):
    monkeypatch.setenv("DCGAN_MIRROR", str(mirror))
    x = load_dataset("cifar10", 32, split="test", limit=6, cache_dir=shared_cache_dir, progress=False).images
    ref = inception_features(x, inception="reference")
    fast = inception_features(x, inception="fast")
    assert fast.shape == ref.shape == (6, 2048)
    assert rel_l2(fast, ref) < 1e-4  # the acceptance bound is 1e-3; fp32 order gives ~1e-6
    # and they are features of these images: a different image gives different ones
    assert rel_l2(fast[1:], ref[:-1]) > 0.1


def test_fused_conv_relu_is_conv_then_relu_in_both_layouts():
    torch.manual_seed(0)
    layer = inception.ConvReLU(8, 16, (1, 3), padding=(0, 1), stride=2).eval()
    x = torch.randn(2, 8, 9, 9)
    with torch.no_grad():
        expected = torch.relu(torch.nn.functional.conv2d(x, layer.weight, layer.bias, 2, (0, 1)))
        for inp in (x, x.contiguous(memory_format=torch.channels_last)):
            out = layer(inp)  # no autograd: the fused oneDNN op where the build has it
            assert out.shape == expected.shape and (out >= 0).all()
            torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    with torch.enable_grad():  # training-style call: the unfused path, gradients flow
        x.requires_grad_(True)
        layer.requires_grad_(True)(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_bf16_copy_holds_bf16_weights_and_leaves_the_fp32_model_alone(reference_state):
    fp32 = inception.from_state_dict(reference_state)
    bf16 = inception.to_bf16(fp32)
    assert {p.dtype for p in bf16.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in fp32.parameters()} == {torch.float32}
    x = torch.rand(1, 3, 299, 299) * 2 - 1
    with torch.inference_mode():
        a, b = fp32(x), bf16(x.bfloat16())
    assert b.dtype == torch.bfloat16 and 0 < rel_l2(b.float().numpy(), a.numpy()) < 0.1


def test_weights_file_round_trips_in_fp16_restored_to_fp32(reference_state, tmp_path):
    path = inception.save_weights(reference_state, tmp_path / "w.pt", torch.float16, feature_rel_l2=1e-4)
    state, info = inception.load_weights(path)
    assert info == {"dtype": "float16", "feature_rel_l2": 1e-4}
    assert set(state) == set(reference_state)
    for k, v in state.items():
        assert v.dtype == torch.float32 and torch.equal(v, reference_state[k].half().float()), k
    model = inception.from_state_dict(state)
    assert model(torch.zeros(1, 3, 299, 299)).shape == (1, 2048)


def test_wrong_weights_are_one_clear_error(reference_state, tmp_path):
    broken = {k: v for k, v in reference_state.items() if ".mixed_4." not in k}
    with pytest.raises(ValueError, match="not the weights of Inception-v3"):
        inception.from_state_dict(broken)
    shapes = dict(reference_state, **{"net.layers.conv.weight": torch.zeros(8, 3, 3, 3)})
    with pytest.raises(ValueError, match="not the weights of Inception-v3"):
        inception.from_state_dict(shapes)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(MetricsError, match="not an Inception weights file"):
        metrics.inception_model("cpu", tmp_path / "junk.pt")
    with pytest.raises(MetricsError, match="no Inception weights file"):
        metrics.inception_model("cpu", tmp_path / "missing.pt")
