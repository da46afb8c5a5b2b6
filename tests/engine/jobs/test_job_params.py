"""A job's parameters come from one description: the config dataclass's fields. The CLI
options, the job's validation and the listing all read it, so they agree."""

import argparse
import dataclasses

import pytest

from engine.cli import main
from engine.cli.param_options import add_param_options
from engine.errors import DataError
from engine.jobs import check_job_params, job_kind
from engine.params import describe, param
from engine.training.dpo import DPOConfig


def _dpo_parser():
    from engine.cli import dpo_cmd

    parser = argparse.ArgumentParser()
    add_param_options(parser, dpo_cmd._specs())
    return parser


def test_cli_defaults_are_the_config_defaults():
    args = _dpo_parser().parse_args([])
    config = DPOConfig(out="o")
    for name in ("save_every", "warmup_steps", "beta", "batch_size", "eval_num_candidates", "mode"):
        assert getattr(args, name) == getattr(config, name)
    job = {s.name: s.default for s in job_kind("dpo").params()}
    assert job["save_every"] == config.save_every == 100  # the job once said 50
    assert job["warmup_steps"] == config.warmup_steps  # the job can set it now
    assert check_job_params("dpo", {"warmup_steps": "3"})["warmup_steps"] == 3


def test_a_changed_default_changes_the_options_and_the_job():
    @dataclasses.dataclass(frozen=True)
    class Tuned:
        beta: float = dataclasses.field(default=7.5, metadata=param("β", gt=0))
        steps: int = dataclasses.field(default=3, metadata=param("steps", ge=1, le=9))

    parser = argparse.ArgumentParser()
    specs = add_param_options(parser, describe(Tuned))
    assert vars(parser.parse_args([])) == {"beta": 7.5, "steps": 3}
    with pytest.raises(SystemExit):
        parser.parse_args(["--steps", "10"])
    assert [s.bounds_text() for s in specs] == ["> 0", ">= 1 and <= 9"]


@pytest.mark.parametrize("argv", [
    ["dpo", "--pairs", "p.jsonl", "--out", "o", "--beta", "0"],
    ["dpo", "--pairs", "p.jsonl", "--out", "o", "--ema-decay", "1"],
])
def test_cli_refuses_out_of_bounds_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "must be" in last and argv[-2] in last


def test_jobs_run_refuses_beta_zero_before_any_work(tmp_path, capsys):
    project = tmp_path / "p.adhmr"
    assert main(["jobs", str(project), "run", "dpo", "--param", "beta=0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["adhmr jobs: error: job dpo: parameter 'beta' must be > 0, got 0.0"]
    assert not project.exists()


def test_one_name_for_the_number_of_candidates():
    for kind in ("sample", "eval"):
        names = [s.name for s in job_kind(kind).params()]
        assert "num_candidates" in names and "M" not in names
        # The old name is still read, as a deprecated alias.
        assert check_job_params(kind, {"dataset": "d", "M": 6})["num_candidates"] == 6
    with pytest.raises(DataError, match="must be >= 1"):
        check_job_params("sample", {"dataset": "d", "num_candidates": 0})


def test_unknown_and_missing_parameters_are_one_line():
    with pytest.raises(DataError, match="job pairs: unknown parameter topk; it takes"):
        check_job_params("pairs", {"dataset": "d", "topk": 3})
    with pytest.raises(DataError, match="job sample: parameter 'dataset' is required"):
        check_job_params("sample", {})
