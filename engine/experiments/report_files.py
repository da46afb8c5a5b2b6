"""Writing the findings: one track's report into findings.md / findings.json, keeping the other's."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.experiments.real_report import REAL_HEADING, real_markdown
from engine.experiments.report import to_markdown


def _jsonable(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return _jsonable(v.item())
    return v


def write_report(findings: dict[str, Any], out_dir: Path, track: str = "synthetic") -> tuple[Path, Path]:
    """Write one track's findings into findings.md and findings.json (atomically) in
    ``out_dir``, keeping the other track's already there.

    findings.json holds the synthetic track at the top level (settings, finding1-3) and
    the real track under "real"; findings.md the synthetic sections, then the real
    track's from its heading (``real_report.REAL_HEADING``) on.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / "findings.md", out_dir / "findings.json")
    try:
        previous = json.loads(paths[1].read_text()) if paths[1].is_file() else {}
    except ValueError:
        previous = {}
    old_text = paths[0].read_text() if paths[0].is_file() else ""
    old_synthetic, heading, old_real = old_text.partition(REAL_HEADING)
    if track == "real":
        combined = {**{k: v for k, v in previous.items() if k != "real"}, "real": findings}
        text = (old_synthetic.rstrip() + "\n\n" if old_synthetic.strip() else "") + real_markdown(findings)
    else:
        combined = {**findings, **({"real": previous["real"]} if "real" in previous else {})}
        text = to_markdown(findings) + ("\n" + heading + old_real if heading else "")
    texts = (text, json.dumps(_jsonable(combined), indent=1, allow_nan=False))
    for path, text in zip(paths, texts):
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, path)
    return paths
