"""The denoiser's GELU is PyTorch's tanh GELU, values and gradients (checkpoints trained
with one run unchanged with the other)."""

import torch
import torch.nn.functional as F

from engine.models.denoiser import TanhGELU


def test_matches_torch_tanh_gelu_in_value_and_gradient():
    x = torch.linspace(-30, 30, 20001, dtype=torch.float32).requires_grad_(True)
    ours = TanhGELU()(x)
    ref = F.gelu(x, approximate="tanh")
    assert torch.allclose(ours, ref, atol=2e-6, rtol=1e-5)
    (g_ours,) = torch.autograd.grad(ours.sum(), x)
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    assert torch.allclose(g_ours, g_ref, atol=1e-5)
    assert torch.isfinite(g_ours).all()


def test_bfloat16_stays_bfloat16_and_close():
    x = torch.randn(64, 256).to(torch.bfloat16)
    out = TanhGELU()(x)
    assert out.dtype == torch.bfloat16
    assert torch.allclose(out.float(), F.gelu(x.float(), approximate="tanh"), atol=0.05)
