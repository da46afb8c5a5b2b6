"""Two gloo processes fine-tune one model with DPO and end with identical weights."""

from __future__ import annotations

import os
import socket

import numpy as np
import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, base: str, pairs: str, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from engine.training.distributed import init_distributed, shutdown_distributed
    from engine.training.dpo import DPOConfig
    from engine.training.dpo_train import DPOTrainer

    info = init_distributed("cpu")
    try:
        config = DPOConfig(out=out, base=base, pairs=(pairs,), steps=3, batch_size=2, lr=1e-3, device="cpu",
                           warmup_steps=1)
        trainer = DPOTrainer(config, info)
        trainer.run()
        torch.save(trainer.model.state_dict(), f"{out}.rank{rank}.pt")
    finally:
        shutdown_distributed(info)


def test_two_gloo_processes_end_with_the_same_weights(tmp_path):
    from test_pairs_build import tiny_data, tiny_models

    from engine.body.model import BodyModel
    from engine.data.load import load_dataset
    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.scorer import HMRScorer
    from engine.training.dpo_train import weights_of
    from engine.training.pair_io import save_pairs
    from engine.training.pairs import PairConfig, build_pairs

    body = BodyModel()
    base, scorer = tiny_models(tmp_path, body)
    records = load_dataset(tiny_data(tmp_path / "data", body, n=4)).records
    config = PairConfig(num_candidates=6, pairs_per_image=2, top_k=2, bottom_k=2, min_margin=0.0)
    pairs = build_pairs(records, DiffusionHMR.load(base, body=body), HMRScorer.load(scorer, body=body), body, config)
    save_pairs(tmp_path / "pairs.jsonl", pairs)
    out = tmp_path / "ddp" / "dpo"
    out.parent.mkdir()
    mp.start_processes(_worker, args=(_free_port(), str(base), str(tmp_path / "pairs.jsonl"), str(out)), nprocs=2,
                       start_method="spawn")
    ranks = [torch.load(f"{out}.rank{r}.pt", weights_only=True) for r in range(2)]
    saved = weights_of(out)
    start = weights_of(base)
    assert any(not np.array_equal(saved[k], start[k]) for k in start)
    for name, value in ranks[0].items():
        assert torch.equal(value, ranks[1][name]), name
        np.testing.assert_array_equal(value.numpy(), saved[name])
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "dpo.json", "dpo.rank0.pt", "dpo.rank1.pt", "dpo.safetensors", "dpo.train.pt"]
