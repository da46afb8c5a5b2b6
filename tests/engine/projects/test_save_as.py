"""Save As: the copy opens elsewhere with its images, decisions and checkpoints; the
original is untouched; an existing target is refused."""

import numpy as np
import pytest

from engine import store
from engine.errors import StoreError
from engine.projects.save_as import save_project_as


def test_a_saved_copy_finds_its_images_and_checkpoints_from_another_folder(tmp_path):
    src = tmp_path / "a" / "p.adhmr"
    photos = tmp_path / "a" / "photos"
    photos.mkdir(parents=True)
    (photos / "x.png").write_bytes(b"not really a png")
    with store.Project.create(src) as project:
        inside = store.add_dataset(project, "inside", "images", "photos")   # relative to the project
        loose = store.add_dataset(project, "loose", "images", None)          # image paths relative to it
        image = store.add_image(project, inside, "x.png", width=4, height=4)
        store.add_image(project, loose, "photos/x.png", width=4, height=4)
        person = store.add_person(project, image, (0, 0, 4, 4), np.zeros((17, 3), np.float32))
        weights = project.data_dir / "checkpoints" / "m.safetensors"
        weights.parent.mkdir()
        weights.write_bytes(b"w")
        ckpt = store.add_checkpoint(project, "base", str(weights), "abc")
        run = store.add_sample_run(project, person, np.zeros((2, 4), np.float32), seed=0, steps=1,
                                   scores=np.array([0.9, 0.1]), checkpoint_id=ckpt)
        a, b = (c.id for c in store.candidates_of_person(project, person, run))
        store.add_manual_pair(project, person, a, b, "me")
        copy_path = save_project_as(project, tmp_path / "b" / "kept.adhmr")
        with pytest.raises(StoreError, match="kept.adhmr: already exists"):
            save_project_as(project, copy_path)

    with store.Project.open(copy_path) as copy:
        for record in store.list_images(copy):
            ds = next(d for d in store.list_datasets(copy) if d.id == record.dataset_id)
            assert copy.resolve(record.path, ds.source_path).read_bytes() == b"not really a png"
        [checkpoint] = store.list_checkpoints(copy)
        assert checkpoint.path == str(copy.data_dir / "checkpoints" / "m.safetensors")
        assert (copy.data_dir / "checkpoints" / "m.safetensors").read_bytes() == b"w"
        [pair] = store.list_pairs(copy)
        assert (pair.winner_id, pair.loser_id, pair.who) == (a, b, "me")
    with store.Project.open(src) as original:
        assert [d.source_path for d in store.list_datasets(original)] == ["photos", None]
        assert store.list_checkpoints(original)[0].path == str(weights)
