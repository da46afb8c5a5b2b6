"""The before / after dialog samples with the user's settings, as the main view does."""

import json
import shutil
from dataclasses import replace

import numpy as np
import torch

from engine import store
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.pipeline import sample_image
from engine.models.sample_settings import SampleSettings
from engine.models.scorer import HMRScorer
from engine.projects.checkpoints import register_checkpoint

TIMEOUT_MS = 60_000


def consensus_scorer(scorer, folder):
    """A copy of the tiny scorer whose sample-consensus term is on (so switching it off
    changes the scores)."""
    config = json.loads(scorer.with_suffix(".json").read_text())
    config["consensus"] = {"weight_per_mm": 1.0}
    folder.mkdir()
    (folder / "scorer.json").write_text(json.dumps(config))
    shutil.copy(scorer.with_suffix(".safetensors"), folder / "scorer.safetensors")
    return folder / "scorer"


def perturbed_base(base, body, folder):
    """The tiny base model with random weights everywhere (an untrained one writes the
    same vector at any precision, as its output layer starts at zero)."""
    torch.manual_seed(0)
    model = DiffusionHMR.load(base, body=body)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save(folder / "base")
    return folder / "base"


def test_compare_dialog_honours_precision_and_consensus(qtbot, make_window, project_path, tiny_models, body,
                                                          tmp_path):
    from app.dialogs.compare_dialog import CompareDialog

    base_path, scorer_path = tiny_models
    scorer_path = consensus_scorer(scorer_path, tmp_path / "consensus")
    base_path = perturbed_base(base_path, body, tmp_path)
    w = make_window()
    assert w.open_project(project_path)
    w.apply_preferences(replace(w.state.prefs, precision="bf16", sample_consensus=False,
                                scorer_checkpoint=str(scorer_path)))
    rec = store.get_checkpoint(w.state.project, register_checkpoint(w.state.project, base_path))
    dialog = CompareDialog(w, rec, rec)
    qtbot.addWidget(dialog)
    dialog.m_spin.setValue(6)
    dialog.seed_spin.setValue(3)
    assert dialog.run()
    qtbot.waitUntil(lambda: dialog.sides is not None, timeout=TIMEOUT_MS)
    shown = dialog.sides[0]

    person, photo = w.state.person, w.state.image_path
    model, scorer = DiffusionHMR.load(base_path, body=body), HMRScorer.load(scorer_path, body=body)

    def run(**changes):
        settings = replace(SampleSettings(num_candidates=6, steps=w.state.prefs.sampler_steps, seed=3,
                                          precision="bf16", consensus=False, device="cpu"), **changes)
        c = sample_image(photo, model, settings, box=person.box, keypoints=person.keypoints, scorer=scorer,
                         body=body).candidates
        return c.params[0].numpy(), c.scores[0].numpy()

    params, scores = run()
    np.testing.assert_array_equal(shown.params, params)
    np.testing.assert_allclose(shown.scores, scores, rtol=1e-6)
    # Neither setting is a no-op here, so matching both proves the dialog used both.
    assert not np.allclose(run(precision="fp32")[0], params)
    assert not np.allclose(run(consensus=True)[1], scores)
    dialog.reject()
