"""Property: every subcommand, given a malformed value for any one of its options, ends
with exit status 0, 1 or 2 and one line of error, never a traceback.

The subcommands and their options are read from ``engine.cli.build_parser()`` at run
time, so options added later are fuzzed too. Required inputs point at files that do not
exist and outputs into a scratch folder, so no command trains, samples or renders.
"""

from __future__ import annotations

import argparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import build_parser, main

# Commands that build or render things from nothing (no input file to be missing).
SKIPPED = {("demo",), ("experiment",), ("synth",)}
MALFORMED = st.one_of(
    st.sampled_from(["", " ", "-1", "0", "-0", "1e20", "1e-300", "nan", "inf", "-inf", "9" * 30, "0x10",
                     "abc", "..", "/", "//", "~", "a=b", "=", "[1,", "{}", "null", "true", "-", "--", "é", "1,2"]),
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
)


def _leaves(parser: argparse.ArgumentParser, path=(), chain=()):
    """(command words, [parsers from the top]) of every runnable subcommand."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    chain = chain + (parser,)
    if not subs:
        yield path, chain
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, path + (name,), chain)


def _fillable(action: argparse.Action) -> bool:
    return not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction, argparse._VersionAction)) \
        and action.nargs != 0 and action.dest != "verbose"


def _safe(action: argparse.Action) -> str:
    if action.choices:
        return str(next(iter(action.choices)))
    name = getattr(action.type, "__name__", "")
    if name in ("int", "float") or name.startswith("_") or name in ("seed_value", "hypotheses"):
        return "1"
    if action.dest == "project":
        return "p.adhmr"
    if "out" in action.dest or action.dest in ("dst", "json", "decisions", "overlay", "dir", "cache"):
        return "scratch_out"
    return "missing.npz"


def _argv(words, chain, target: argparse.Action, value: str) -> list[str]:
    argv: list[str] = []
    for depth, parser in enumerate(chain):
        for action in parser._actions:
            if not _fillable(action) or not (action.required or action is target):
                continue
            v = value if action is target else _safe(action)
            count = action.nargs if isinstance(action.nargs, int) else 1
            if action.option_strings:
                argv += [action.option_strings[0], *[v] * count]
            elif action.nargs not in ("?", "*") or action is target:
                argv += [v] * count
        if depth < len(words):
            argv.append(words[depth])
    return argv


LEAVES = [(w, c) for w, c in _leaves(build_parser()) if (w[0],) not in SKIPPED]
# "sample --seed" -> (command words, parsers, the option's action); keys keep failures readable.
TARGETS = {
    f"{' '.join(w)} {a.option_strings[0] if a.option_strings else a.dest}": (w, c, a)
    for w, c in LEAVES for p in c for a in p._actions if _fillable(a)
}


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "p.adhmr"]) == 0
    return tmp_path


def test_every_subcommand_is_reached():
    names = {w[0] for w, _ in LEAVES}
    assert {"import", "sample", "export", "jobs", "body", "train-base", "dpo"} <= names
    assert len(TARGETS) > 100


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(sorted(TARGETS)), MALFORMED)
def test_a_malformed_value_is_one_line_and_exit_1_or_2(scratch, capsys, target, value):
    words, chain, action = TARGETS[target]
    argv = _argv(words, chain, action, value)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage error (2), or --help (0)
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 1:
        errors = [line for line in err.splitlines() if line.startswith("adhmr")]
        assert len(errors) == 1 and "\n" not in errors[0], (argv, err)
