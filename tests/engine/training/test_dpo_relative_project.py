"""DPO on a project's pairs when the project is named by a relative path (the README's
``cd dir; adhmr jobs study.adhmr run dpo``), a job frozen by an older version resumed,
and ``adhmr export P pairs`` -> ``adhmr dpo --pairs`` from another working directory."""

from __future__ import annotations

import json
import os

import pytest

from engine import store as st
from engine.body.model import BodyModel
from engine.cli import main
from engine.jobs import get_job, list_jobs
from engine.store.repo_jobs import set_job_status
from engine.training.pair_io import load_pairs

from test_pairs_build import tiny_data, tiny_models

TINY_PAIRS = ["--per-image", "2", "--top-k", "2", "--bottom-k", "2", "--min-margin", "0"]
TINY_DPO = ["--steps", "2", "--batch-size", "2"]


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    """A project made and sampled from its own folder, every path relative."""
    body = BodyModel()
    models = tmp_path / "models"
    base, scorer = tiny_models(models, body)
    data = tiny_data(tmp_path / "study" / "data", body, n=4)
    monkeypatch.chdir(tmp_path / "study")
    assert main(["init", "study.adhmr"]) == 0
    assert main(["import", "study.adhmr", os.path.relpath(data), "--name", "wild"]) == 0
    assert main(["jobs", "study.adhmr", "run", "sample", "--param", "dataset=wild", "--param", f"checkpoint={base}",
                 "--param", f"scorer={scorer}", "--param", "M=6"]) == 0
    assert main(["pairs", "--project", "study.adhmr", "--dataset", "wild", *TINY_PAIRS]) == 0
    return tmp_path / "study", base


def test_dpo_on_a_relative_project_finds_its_images(project_dir, capsys):
    _, base = project_dir
    assert main(["dpo", "--project", "study.adhmr", "--dataset", "wild", "--base", str(base), *TINY_DPO]) == 0, \
        capsys.readouterr().err
    with st.Project.open("study.adhmr") as p:
        (job,) = list_jobs(p, kind="dpo")
        frozen = load_pairs(p.data_dir / "jobs" / str(job.id) / "pairs.jsonl")
    assert frozen and all(os.path.isabs(pair.image) and os.path.isfile(pair.image) for pair in frozen)


def test_a_job_frozen_with_working_directory_paths_resumes(project_dir, tmp_path, capsys):
    folder, base = project_dir
    with st.Project.open("study.adhmr") as p:
        assert main(["dpo", "--project", "study.adhmr", "--dataset", "wild", "--base", str(base), "--steps", "1",
                     "--batch-size", "2"]) == 0
        (job,) = list_jobs(p, kind="dpo")
        frozen = p.data_dir / "jobs" / str(job.id) / "pairs.jsonl"
        # What versions before issue 18 froze: image paths relative to the working directory.
        lines = [json.loads(line) for line in frozen.read_text().splitlines()]
        for line in lines:
            line["image"] = os.path.relpath(line["image"])
        frozen.write_text("".join(json.dumps(line) + "\n" for line in lines))
        set_job_status(p, job.id, "failed")
    assert main(["jobs", "study.adhmr", "resume", str(job.id)]) == 0, capsys.readouterr().err
    with st.Project.open(folder / "study.adhmr") as p:
        assert get_job(p, job.id).status == "done"
        assert "freezing the pairs again" in get_job(p, job.id).log
    assert all(os.path.isabs(pair.image) for pair in load_pairs(frozen))


def test_exported_pairs_train_with_adhmr_dpo_from_elsewhere(project_dir, tmp_path, monkeypatch, capsys):
    folder, base = project_dir
    assert main(["export", "study.adhmr", "pairs", "--out", "pairs.jsonl"]) == 0
    exported = folder / "pairs.jsonl"
    first = json.loads(exported.read_text().splitlines()[0])
    assert {"crop_center", "crop_size", "keypoints", "layout", "winner", "loser"} <= set(first)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = elsewhere / "runs" / "dpo"
    assert main(["dpo", "--pairs", str(exported), "--base", str(base), "--out", str(out), *TINY_DPO]) == 0, \
        capsys.readouterr().err
    assert json.loads(out.with_suffix(".json").read_text())["training"]["num_pairs"] == len(load_pairs(exported))
