"""End to end through ``adhmr``: pairs -> dpo -> clean, from plain files and in a project."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import store as st
from engine.body.model import BodyModel
from engine.cli import main
from engine.data.load import read_annotation_file
from engine.training.pair_io import load_pairs, save_pairs

from test_pairs_build import tiny_data, tiny_models

TINY_PAIRS = ["-M", "6", "--per-image", "2", "--top-k", "2", "--bottom-k", "2", "--min-margin", "0"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    body = BodyModel()
    base, scorer = tiny_models(folder, body)
    return folder, base, scorer, tiny_data(folder / "data", body, n=4)



def test_pairs_dpo_and_clean_from_files(setup, tmp_path, capsys):
    _, base, scorer, data = setup
    pairs = tmp_path / "pairs.jsonl"
    assert main(["pairs", "--data", str(data), "--base", str(base), "--scorer", str(scorer), "--out", str(pairs),
                 *TINY_PAIRS]) == 0
    auto = load_pairs(pairs)
    assert len(auto) == 8 and "wrote 8 pairs" in capsys.readouterr().out
    # A hand-made file rejects the first automatic pair; merging drops it.
    from dataclasses import replace

    save_pairs(tmp_path / "manual.jsonl", [replace(auto[0], source="manual", status="rejected")])
    merged = tmp_path / "merged.npz"
    assert main(["pairs", "--merge", str(pairs), str(tmp_path / "manual.jsonl"), "--out", str(merged)]) == 0
    assert len(load_pairs(merged)) == 7
    out = tmp_path / "runs" / "dpo"
    assert main(["dpo", "--pairs", str(merged), "--base", str(base), "--out", str(out), "--steps", "2",
                 "--batch-size", "2", "--log-every", "1"]) == 0
    config = json.loads(out.with_suffix(".json").read_text())
    assert config["kind"] == "dpo" and config["training"]["num_pairs"] == 7
    cleaned, calls = tmp_path / "cleaned.npz", tmp_path / "calls.csv"
    assert main(["clean", "--data", str(data), "--out", str(cleaned), "--keep", "0.5", "--scorer", str(scorer),
                 "--override", "0=keep", "--decisions", str(calls)]) == 0
    kept = read_annotation_file(cleaned).records
    assert len(kept) in (2, 3) and kept[0].image_path == read_annotation_file(data).records[0].image_path
    assert "kept" in capsys.readouterr().out and calls.is_file()


def test_bad_arguments_fail_with_one_line(setup, tmp_path, capsys):
    _, base, scorer, data = setup
    with pytest.raises(SystemExit) as e:
        main(["clean", "--data", str(data), "--out", str(tmp_path / "c.npz"), "--keep", "1.5", "--scorer",
              str(scorer)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == ("adhmr clean: error: argument --keep-fraction/--keep: parameter 'keep_fraction' must be > 0 "
                   "and <= 1, got 1.5")
    assert main(["dpo", "--pairs", str(tmp_path / "none.jsonl"), "--base", str(base), "--out",
                 str(tmp_path / "d")]) == 1
    assert "no such pairs file" in capsys.readouterr().err
    assert not (tmp_path / "c.npz").exists() and not (tmp_path / "d.safetensors").exists()


def test_pairs_dpo_and_clean_in_a_project(setup, tmp_path, capsys):
    _, base, scorer, data = setup
    project = tmp_path / "study.adhmr"
    assert main(["init", str(project)]) == 0
    assert main(["import", str(project), str(data), "--name", "wild", "--label-kind", "pseudo"]) == 0
    assert main(["jobs", str(project), "run", "sample", "--param", "dataset=wild", "--param", f"checkpoint={base}",
                 "--param", f"scorer={scorer}", "--param", "M=6"]) == 0
    export = tmp_path / "wild-pairs.jsonl"
    assert main(["pairs", "--project", str(project), "--dataset", "wild", *TINY_PAIRS[2:], "--out", str(export)]) == 0
    assert len(load_pairs(export)) == 8
    assert main(["dpo", "--project", str(project), "--dataset", "wild", "--base", str(base), "--steps", "2",
                 "--batch-size", "2"]) == 0
    assert main(["clean", "--project", str(project), "--dataset", "wild", "--keep", "0.5", "--scorer",
                 str(scorer)]) == 0
    capsys.readouterr()
    with st.Project.open(project) as p:
        assert len(st.list_pairs(p, status="proposed")) == 8
        dpo = st.list_checkpoints(p, "dpo")
        assert len(dpo) == 1 and st.get_checkpoint(p, dpo[0].parent_id).path == str(base.with_suffix(".safetensors"))
        decisions = st.cleaning_decisions(p, 1)
        assert len(decisions) == 4 and sum(d.keep for d in decisions) == 2
        scores = [d.score for d in decisions]
        assert scores == sorted(scores, reverse=True) and np.isfinite(scores).all()
