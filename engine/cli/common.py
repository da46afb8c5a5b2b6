"""Options several subcommands share: where the networks run, and how many CPU threads."""

from __future__ import annotations

import argparse
from collections.abc import Callable

DEVICE_HELP = "auto (CUDA when available), cpu, cuda, cuda:1, ..."
THREADS_HELP = "CPU threads for torch (default: torch's choice; 1 is faster on a CPU other programs keep busy)"


def device_name(text: str) -> str:
    """argparse type for --device: the name as given, once this machine is known to have
    it (an unknown name or a CUDA-less torch is a one-line usage error, exit 2)."""
    from engine.devices import check_device
    from engine.errors import DeviceError

    try:
        check_device(text)
    except DeviceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


SEED_MAX = 2**63 - 1  # torch keeps seeds in a signed 64-bit integer


def seed_value(text: str) -> int:
    """argparse type for --seed: a whole number 0..2**63-1 (usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: a whole number 0..{SEED_MAX}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"seed {text} is out of range 0..{SEED_MAX}")
    return value


# Candidates per image: memory grows linearly with M (each holds a full mesh, and the
# networks run on all M at once), so M=20000 would need gigabytes; the paper samples 100.
MAX_HYPOTHESES = 1000


def hypotheses(text: str) -> int:
    """argparse type for -M: a whole number 1..MAX_HYPOTHESES (usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: a whole number 1..{MAX_HYPOTHESES}") from None
    if not 1 <= value <= MAX_HYPOTHESES:
        raise argparse.ArgumentTypeError(
            f"{value} candidates is outside 1..{MAX_HYPOTHESES} (memory grows with M; sample in several runs "
            "with different --seed for more)")
    return value


def fraction(what: str) -> Callable[[str], float]:
    """argparse type for a number in [0, 1] named ``what`` in its usage error."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: a number in [0, 1]") from None
        if not 0 <= value <= 1:
            raise argparse.ArgumentTypeError(f"{what} {text} must be in [0, 1]")
        return value

    return parse


def threads_count(text: str) -> int:
    """argparse type for --threads: a whole number 1..1024 (usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: a whole number 1..1024") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"{value} threads is outside 1..1024")
    return value


def add_compute_options(p: argparse.ArgumentParser, device_default: str | None = "auto") -> None:
    """--device and --threads."""
    p.add_argument("--device", type=device_name, default=device_default, help=DEVICE_HELP)
    p.add_argument("--threads", type=threads_count, default=None, help=THREADS_HELP)


def apply_threads(args: argparse.Namespace) -> None:
    """Set torch's CPU thread count when --threads was given."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def add_consensus_option(p: argparse.ArgumentParser) -> None:
    """--no-consensus: the scorer network alone, as in the paper (see README, Sample consensus)."""
    p.add_argument("--no-consensus", action="store_true",
                   help="score each candidate by the scorer network alone, without comparing it with the "
                        "other candidates of its person (the sample-consensus term)")
