"""Crafted SMPL pickles that name a shell through an allowed-looking module run nothing.

Each pickle is protocol 4 (STACK_GLOBAL resolves dotted names) and, if it were obeyed,
would create a marker file through ``os.system``. It is fed through every route that
reads a body model: ``adhmr body convert``, ``$ADHMR_BODY_MODEL`` with ``adhmr body info``,
and resuming a received project's job whose params name the pickle.
"""

import io
import pickletools

import pytest

from engine import store as st
from engine.cli import main
from engine.jobs import create_job

# (module, name) pairs a prefix rule on "numpy" / "scipy.sparse" / "chumpy" would let through.
HOSTILE = [
    ("numpy.lib._npyio_impl", "os.system"),
    ("numpy", "lib._npyio_impl.os.system"),
    ("numpy.testing._private.utils", "os.system"),
    ("scipy.sparse._base", "np.lib._npyio_impl.os.system"),
    ("numpy.ndarray", "__reduce__.__globals__"),
    ("chumpy.ch", "os.system"),
    ("builtins", "eval"),
]


def _short_text(s: str) -> bytes:
    data = s.encode()
    return b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE


def _hostile_pickle(module: str, name: str, marker) -> bytes:
    """{"v_template": <module>.<name>("touch marker")} in protocol 4, written by hand."""
    body = (
        b"\x80\x04}"  # PROTO 4, EMPTY_DICT
        + _short_text("v_template")
        + _short_text(module) + _short_text(name) + b"\x93"  # STACK_GLOBAL
        + _short_text(f"touch {marker}") + b"\x85R"  # TUPLE1, REDUCE
        + b"s."  # SETITEM, STOP
    )
    pickletools.dis(body, out=io.StringIO())  # a well-formed pickle: the refusal is the unpickler's
    return body


@pytest.fixture(params=HOSTILE, ids=lambda mn: f"{mn[0]}:{mn[1]}")
def evil(request, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_hostile_pickle(*request.param, marker))
    return path, marker


def test_body_convert_refuses_it(evil, tmp_path, capsys):
    path, marker = evil
    out = tmp_path / "out.npz"
    assert main(["body", "convert", str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert "refusing to load" in err and "evil.pkl" in err and "Traceback" not in err
    assert not marker.exists() and not out.exists()


def test_body_info_from_the_environment_refuses_it(evil, monkeypatch, capsys):
    path, marker = evil
    monkeypatch.setenv("ADHMR_BODY_MODEL", str(path))
    assert main(["body", "info"]) == 1
    assert "refusing to load" in capsys.readouterr().err
    assert not marker.exists()


def test_resuming_a_received_job_that_names_it_refuses_it(evil, tmp_path, capsys):
    path, marker = evil
    project_path = tmp_path / "received.adhmr"
    with st.Project.create(project_path) as project:
        job = create_job(project, "train-base", {"data": [str(tmp_path / "d.npz")], "body_model": str(path), "steps": 1})
    assert main(["jobs", str(project_path), "resume", str(job)]) == 1
    assert "refusing to load" in capsys.readouterr().err
    assert not marker.exists()
