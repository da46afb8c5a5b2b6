"""Options several subcommands share: where the networks run, and how many CPU threads."""

from __future__ import annotations

import argparse

DEVICE_HELP = "auto (CUDA when available), cpu, cuda, cuda:1, ..."
THREADS_HELP = "CPU threads for torch (default: torch's choice; 1 is faster on a CPU other programs keep busy)"


def add_compute_options(p: argparse.ArgumentParser, device_default: str | None = "auto") -> None:
    """--device and --threads."""
    p.add_argument("--device", default=device_default, help=DEVICE_HELP)
    p.add_argument("--threads", type=int, default=None, help=THREADS_HELP)


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
