"""Build resources/fitting/pose_prior.npz, the fit's Gaussian pose prior.

Fitted on the synthetic renderer's own pose distribution (engine.data.synth.pose_prior);
re-run after changing that distribution:

    .venv/bin/python tools/build_pose_prior.py
"""

from __future__ import annotations

from engine.fitting.priors import PRIOR_PATH, fit_pose_prior


def main() -> None:
    PRIOR_PATH.parent.mkdir(parents=True, exist_ok=True)
    fit_pose_prior().save(PRIOR_PATH)
    print(f"wrote {PRIOR_PATH}")


if __name__ == "__main__":
    main()
