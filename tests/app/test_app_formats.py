"""The Import Dataset dialog offers every registered dataset format (engine.data.formats)."""

import pytest

from engine.data import formats
from engine.data.coco_json import read_coco_json


@pytest.fixture
def toy_format():
    formats.register_format(formats.DatasetFormat("toy", "Toy keypoints", ("*.toy",), read_coco_json))
    yield
    formats.unregister_format("toy")


def test_the_import_dialog_filter_lists_a_registered_format(make_window, toy_format, monkeypatch):
    import app.window_actions as actions

    asked = []

    def fake_dialog(parent, title, folder, filters):
        asked.append(filters)
        return "", ""  # the user cancels

    monkeypatch.setattr(actions.QFileDialog, "getOpenFileName", fake_dialog)
    w = make_window()
    w.import_dataset_dialog()
    assert len(asked) == 1
    assert asked[0].startswith("Annotation files (*.npz *.json *.toy)") and "Toy keypoints (*.toy)" in asked[0]
