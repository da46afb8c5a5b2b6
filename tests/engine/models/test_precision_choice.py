"""``--precision auto`` picks bf16 only on CPUs that execute it in hardware."""

import pytest

from engine.models import precision
from engine.models.precision import bf16_supported, cpu_flags, resolve_precision

# Flag sets of real CPUs (from /proc/cpuinfo), trimmed to what matters here.
XEON_AVX512_NO_BF16 = frozenset({"sse4_2", "avx2", "avx512f", "avx512bw", "avx512_vnni"})
SAPPHIRE_RAPIDS = XEON_AVX512_NO_BF16 | {"avx512_bf16", "amx_bf16", "amx_tile"}
ZEN4 = frozenset({"avx2", "avx512f", "avx512_bf16"})
ZEN2 = frozenset({"avx2", "sse4_2"})


@pytest.mark.parametrize("flags, native", [
    (XEON_AVX512_NO_BF16, False), (SAPPHIRE_RAPIDS, True), (ZEN4, True), (ZEN2, False), (frozenset(), False),
])
def test_the_choice_follows_the_cpu_flags(flags, native, monkeypatch):
    assert bf16_supported("cpu", flags) is native
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    assert resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"


def test_this_machine_flags_are_read():
    flags = cpu_flags()
    assert isinstance(flags, frozenset)
    assert bf16_supported("cpu") is bool(precision.NATIVE_BF16_FLAGS & flags)
