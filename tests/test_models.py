"""The networks of Figure 1 (§3) and their init (§4), checked against the paper's numbers.

The paper's 64×64 nets are only built and run forward on a batch of 2; everything that
trains elsewhere uses tiny widths.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dcgan_core import models
from dcgan_core.models import Discriminator, Generator, init_weights, layer_table, sample_z

# Figure 1, read off the paper: G's layers (name, C, H, W).
PAPER_G64 = [
    ("project", 1024, 4, 4),
    ("conv1", 512, 8, 8),
    ("conv2", 256, 16, 16),
    ("conv3", 128, 32, 32),
    ("conv4", 3, 64, 64),
]
PAPER_D64 = [("conv1", 128, 32, 32), ("conv2", 256, 16, 16), ("conv3", 512, 8, 8), ("conv4", 1024, 4, 4)]


def _conv_params(k: int, chans: list[int]) -> int:
    """k×k conv weights between successive channel counts, no bias."""
    return sum(k * k * a * b for a, b in zip(chans, chans[1:]))


def _bn_params(chans: list[int]) -> int:
    return sum(2 * c for c in chans)


def _expected_counts() -> dict[str, int]:
    """Parameter counts from the Figure-1 shapes alone (no biases; BN has γ and β)."""
    nz = 100
    g_chans = [1024, 512, 256, 128, 3]
    d_chans = [3, 128, 256, 512, 1024]
    paper_g = nz * 4 * 4 * 1024 + _conv_params(5, g_chans) + _bn_params(g_chans[:-1])
    paper_d = _conv_params(5, d_chans) + _bn_params(d_chans[2:]) + 4 * 4 * 1024
    # pytorch/examples: ngf = ndf = 64, 4×4 kernels, z as a 1×1 map, D's head a 4×4 conv.
    t_g = [512, 256, 128, 64, 3]
    t_d = [3, 64, 128, 256, 512]
    torch_g = 16 * nz * 512 + _conv_params(4, t_g) + _bn_params(t_g[:-1])
    torch_d = _conv_params(4, t_d) + _bn_params(t_d[2:]) + 16 * 512
    return dict(paper_g=paper_g, paper_d=paper_d, torch_g=torch_g, torch_d=torch_d)


def _n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.fixture(scope="module")
def paper64():
    torch.manual_seed(0)
    G, D = Generator(arch="paper", image_size=64), Discriminator(arch="paper", image_size=64)
    return G.eval(), D.eval()


# --- Figure 1 ---------------------------------------------------------------------------------
def test_paper_generator_matches_figure_1(paper64):
    G, _ = paper64
    rows = layer_table(G, sample_z(2, 100, torch.Generator().manual_seed(0)))
    assert [(r["name"], *r["shape"]) for r in rows] == PAPER_G64
    assert sum(r["params"] for r in rows) == _n_params(G)


def test_paper_discriminator_matches_figure_1(paper64):
    _, D = paper64
    rows = layer_table(D, torch.rand(2, 3, 64, 64) * 2 - 1)
    assert [(r["name"], *r["shape"]) for r in rows[:-1]] == PAPER_D64
    assert (rows[-1]["name"], rows[-1]["shape"]) == ("output", (1,))
    assert sum(r["params"] for r in rows) == _n_params(D)


def test_paper_layers_follow_section_3(paper64):
    G, D = paper64
    for net in (G, D):
        kinds = {type(m) for m in net.modules()}
        assert not kinds & {nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d}
        assert nn.Dropout not in kinds
    # Linear only in G's "project and reshape" and D's single output.
    linears = [name for name, m in G.named_modules() if isinstance(m, nn.Linear)]
    assert linears == ["layers.0.0"]
    linears = [name for name, m in D.named_modules() if isinstance(m, nn.Linear)]
    assert linears == ["head.1"]
    assert D.head[1].out_features == 1

    # G: 5×5 stride-2 fractionally-strided convs; BN+ReLU on every layer but the output (Tanh).
    ups = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(ups) == 4
    assert all(m.kernel_size == (5, 5) and m.stride == (2, 2) for m in ups)
    for layer in G.layers[:-1]:
        assert isinstance(layer[-2], nn.BatchNorm2d) and isinstance(layer[-1], nn.ReLU)
    out = G.layers[-1]
    assert isinstance(out[-1], nn.Tanh)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in out.modules())
    assert not any(isinstance(m, nn.LeakyReLU) for m in G.modules())

    # D: 5×5 stride-2 convs; BN on every conv but the first; LeakyReLU(0.2) everywhere.
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4
    assert all(m.kernel_size == (5, 5) and m.stride == (2, 2) for m in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.layers[0].modules())
    for layer in D.layers[1:]:
        assert any(isinstance(m, nn.BatchNorm2d) for m in layer.modules())
    for layer in D.layers:
        assert isinstance(layer[-1], nn.LeakyReLU) and layer[-1].negative_slope == 0.2
    assert not any(isinstance(m, (nn.ReLU, nn.Tanh)) for m in D.modules())


def test_parameter_counts_from_figure_1_shapes():
    want = _expected_counts()
    # The known numbers (paper: from Figure 1; torch: pytorch/examples' DCGAN).
    assert want == dict(paper_g=18_855_040, paper_d=17_232_768, torch_g=3_576_704, torch_d=2_765_568)
    assert _n_params(Generator(arch="paper", image_size=64)) == want["paper_g"]
    assert _n_params(Discriminator(arch="paper", image_size=64)) == want["paper_d"]
    assert _n_params(Generator(arch="torch", image_size=64)) == want["torch_g"]
    assert _n_params(Discriminator(arch="torch", image_size=64)) == want["torch_d"]


def test_torch_arch_is_pytorch_examples():
    G, D = Generator(arch="torch", image_size=64), Discriminator(arch="torch", image_size=64)
    assert not any(isinstance(m, nn.Linear) for net in (G, D) for m in net.modules())
    ups = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in ups] == [
        (100, 512, (4, 4), (1, 1)),
        (512, 256, (4, 4), (2, 2)),
        (256, 128, (4, 4), (2, 2)),
        (128, 64, (4, 4), (2, 2)),
        (64, 3, (4, 4), (2, 2)),
    ]
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in convs] == [
        (3, 64, (4, 4), (2, 2)),
        (64, 128, (4, 4), (2, 2)),
        (128, 256, (4, 4), (2, 2)),
        (256, 512, (4, 4), (2, 2)),
        (512, 1, (4, 4), (1, 1)),
    ]
    G.eval(), D.eval()
    with torch.no_grad():
        x = G(sample_z(2, 100))
        assert x.shape == (2, 3, 64, 64)
        assert D(x).shape == (2,)


# --- sizes and channels -----------------------------------------------------------------------
@pytest.mark.parametrize("arch", models.ARCHS)
@pytest.mark.parametrize("image_size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_sizes_and_channels(arch, image_size, channels):
    G = Generator(arch=arch, image_size=image_size, nz=20, width=8, channels=channels)
    D = Discriminator(arch=arch, image_size=image_size, width=8, channels=channels)
    init_weights(G), init_weights(D)
    z = sample_z(3, 20)
    x = G(z)
    assert x.shape == (3, channels, image_size, image_size)
    assert x.min() >= -1 and x.max() <= 1
    feats = D.features(x)
    n = int(math.log2(image_size // 4))
    assert [tuple(f.shape) for f in feats] == [
        (3, 8 * 2**i, image_size // 2 ** (i + 1), image_size // 2 ** (i + 1)) for i in range(n)
    ]
    assert D(x).shape == (3,)
    acts = G.activations(z)
    assert len(acts) == n + 1
    assert tuple(acts[0].shape) == (3, 8 * 2 ** (n - 1), 4, 4)


def test_paper_32_matches_the_cifar_net():
    rows = layer_table(Generator(arch="paper", image_size=32, channels=1).eval(), sample_z(2, 100))
    assert [(r["name"], *r["shape"]) for r in rows] == [
        ("project", 512, 4, 4),
        ("conv1", 256, 8, 8),
        ("conv2", 128, 16, 16),
        ("conv3", 1, 32, 32),
    ]
    rows = layer_table(Discriminator(arch="paper", image_size=32, channels=1).eval(), torch.zeros(2, 1, 32, 32))
    assert [(r["name"], r["shape"]) for r in rows] == [
        ("conv1", (128, 16, 16)),
        ("conv2", (256, 8, 8)),
        ("conv3", (512, 4, 4)),
        ("output", (1,)),
    ]


@pytest.mark.parametrize("size", [48, 8, 4, 0, -64, 100])
@pytest.mark.parametrize("cls", [Generator, Discriminator])
def test_bad_image_size_is_a_clear_error(cls, size):
    with pytest.raises(ValueError, match=rf"image_size must be a power of two.*got {size}\b"):
        cls(arch="paper", image_size=size)


@pytest.mark.parametrize("cls", [Generator, Discriminator])
def test_unknown_arch_is_a_clear_error(cls):
    with pytest.raises(ValueError, match=r"unknown arch 'dcgan2'.*paper.*torch"):
        cls(arch="dcgan2", image_size=64)


# --- init (§4: N(0, 0.02)) --------------------------------------------------------------------
def _within(value: float, target: float, se: float, k: float = 6.0) -> bool:
    return abs(value - target) <= k * se


@pytest.mark.parametrize("cls", [Generator, Discriminator])
def test_init_statistics(cls):
    net = cls(arch="paper", image_size=64)
    init_weights(net, torch.Generator().manual_seed(1))
    n_w = n_bn = 0
    for name, m in net.named_modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            w = m.weight.detach().double().flatten()
            n = w.numel()
            # mean of n N(0, σ²) draws: s.e. σ/√n; sample std: s.e. ≈ σ/√(2n); 6 s.e. allowed
            assert _within(w.mean().item(), 0.0, 0.02 / math.sqrt(n)), name
            assert _within(w.std().item(), 0.02, 0.02 / math.sqrt(2 * n)), name
            assert m.bias is None
            n_w += 1
        elif isinstance(m, nn.BatchNorm2d):
            g = m.weight.detach().double()
            n = g.numel()
            assert _within(g.mean().item(), 1.0, 0.02 / math.sqrt(n)), name
            assert _within(g.std().item(), 0.02, 0.02 / math.sqrt(2 * n)), name
            assert torch.count_nonzero(m.bias) == 0, name
            n_bn += 1
    assert (n_w, n_bn) == ((5, 4) if cls is Generator else (5, 3))


def test_init_overrides_pytorch_defaults():
    G = Generator(arch="torch", image_size=32, width=16)
    with torch.no_grad():
        for p in G.parameters():
            p.fill_(5.0)
        for b in G.buffers():
            if b.is_floating_point():
                b.fill_(5.0)
    init_weights(G, torch.Generator().manual_seed(0))
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.count_nonzero(m.bias) == 0
            assert (m.weight - 1).abs().max() < 0.2
        elif isinstance(m, nn.ConvTranspose2d):
            assert m.weight.abs().max() < 0.2


@pytest.mark.parametrize("arch", models.ARCHS)
def test_init_is_seeded(arch):
    def weights(seed):
        G = Generator(arch=arch, image_size=32, width=8)
        D = Discriminator(arch=arch, image_size=32, width=8)
        gen = torch.Generator().manual_seed(seed)
        init_weights(G, gen), init_weights(D, gen)
        return list(G.state_dict().values()) + list(D.state_dict().values())

    a, b, c = weights(7), weights(7), weights(8)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    float_pairs = [(x, y) for x, y in zip(a, c) if x.is_floating_point() and x.numel() > 1 and x.std() > 0]
    assert float_pairs and all(not torch.equal(x, y) for x, y in float_pairs)


# --- looking inside (§5.1, §6.3.1) ------------------------------------------------------------
@pytest.fixture(params=models.ARCHS)
def small_g(request):
    G = Generator(arch=request.param, image_size=32, nz=100, width=8, channels=3)
    init_weights(G, torch.Generator().manual_seed(0))
    return G.eval()


def test_activations_are_every_layer_image_last(small_g):
    z = sample_z(4, 100, torch.Generator().manual_seed(3))
    with torch.no_grad():
        acts = small_g.activations(z)
        image = small_g(z)
    assert len(acts) == len(small_g.layers) == 4
    assert [tuple(a.shape[1:]) for a in acts] == [(32, 4, 4), (16, 8, 8), (8, 16, 16), (3, 32, 32)]
    assert torch.equal(acts[-1], image)


def test_drop_zeroes_exactly_those_maps(small_g):
    z = sample_z(4, 100, torch.Generator().manual_seed(3))
    maps = [0, 3, 5]
    with torch.no_grad():
        base = small_g.activations(z)
        dropped = small_g.activations(z, drop={1: maps})
        image = small_g(z, drop={1: maps})
    assert base[1][:, maps].abs().sum() > 0  # the maps were not already zero
    assert torch.count_nonzero(dropped[1][:, maps]) == 0
    others = [i for i in range(base[1].shape[1]) if i not in maps]
    assert torch.equal(dropped[1][:, others], base[1][:, others])
    assert torch.equal(dropped[0], base[0])  # layers before are untouched
    assert not torch.equal(dropped[-1], base[-1])  # the image changes
    assert torch.equal(image, dropped[-1])


@pytest.mark.parametrize("drop", [None, {}, {1: []}, {2: ()}])
def test_empty_drop_changes_nothing(small_g, drop):
    z = sample_z(4, 100, torch.Generator().manual_seed(3))
    with torch.no_grad():
        base = small_g.activations(z)
        acts = small_g.activations(z, drop=drop)
        image = small_g(z, drop=drop)
    assert all(torch.equal(a, b) for a, b in zip(base, acts))
    assert torch.equal(image, base[-1])


@pytest.mark.parametrize("arch", models.ARCHS)
def test_discriminator_features_and_logits(arch):
    D = Discriminator(arch=arch, image_size=32, width=8, channels=1)
    init_weights(D, torch.Generator().manual_seed(0))
    D.eval()
    x = torch.rand(5, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        feats = D.features(x)
        logits = D(x)
    assert [tuple(f.shape) for f in feats] == [(5, 8, 16, 16), (5, 16, 8, 8), (5, 32, 4, 4)]
    assert logits.shape == (5,)
    assert torch.equal(logits, D.head(feats[-1]).view(-1))
    # one logit per image: each depends on its own image only (eval mode)
    with torch.no_grad():
        assert torch.allclose(D(x[2:3]), logits[2:3], atol=1e-6)
    assert torch.unique(logits).numel() == 5


def test_sample_z_uniform_and_seeded():
    z = sample_z(1000, 100, torch.Generator().manual_seed(5))
    assert z.shape == (1000, 100)
    assert z.min() >= -1 and z.max() <= 1
    assert z.min() < -0.99 and z.max() > 0.99  # U[-1, 1], not U[0, 1]
    assert abs(z.mean().item()) < 6 * (1 / math.sqrt(3)) / math.sqrt(z.numel())
    assert torch.equal(z, sample_z(1000, 100, torch.Generator().manual_seed(5)))
    assert not torch.equal(z, sample_z(1000, 100, torch.Generator().manual_seed(6)))
