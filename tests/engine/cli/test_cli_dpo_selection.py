"""``adhmr dpo --project --pair-selection``: the job trains only on the pairs chosen; none
of that kind is a one-line failure."""

import numpy as np
from test_cli_render import BOX, params

from engine import store
from engine.cli import main
from engine.image_io import save_image
from engine.jobs.kinds.dpo import pair_counts


def test_pair_selection_counts_and_refuses_an_empty_choice(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    save_image(photos / "p.png", np.full((320, 260, 3), 90, np.uint8))
    path = tmp_path / "d.adhmr"
    with store.Project.create(path) as project:
        ds = store.add_dataset(project, "photos", "images", str(photos))
        image = store.add_image(project, ds, "p.png", width=260, height=320)
        person = store.add_person(project, image, BOX, np.zeros((17, 3), np.float32))
        store.add_sample_run(project, person, params(4), seed=0, steps=1, scores=np.array([0.9, 0.6, 0.3, 0.1]))
        ids = [c.id for c in store.candidates_of_person(project, person)]
        store.add_auto_pairs(project, [store.PairProposal(person, ids[0], ids[3], 0.8),
                                       store.PairProposal(person, ids[1], ids[2], 0.3)])
        assert pair_counts(project) == {"reviewed": 0, "reviewed+proposed": 2, "hand-made": 0}
        store.decide_pair(project, store.list_pairs(project)[0].id, "accepted", "me")
        assert pair_counts(project) == {"reviewed": 1, "reviewed+proposed": 2, "hand-made": 0}
    assert main(["dpo", "--project", str(path), "--pair-selection", "hand-made", "--steps", "1"]) == 1
    assert "no hand-made pairs to train on" in capsys.readouterr().err
