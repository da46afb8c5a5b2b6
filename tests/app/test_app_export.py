"""File ▸ Export Selected Candidates writes what adhmr render writes, in the background."""

from test_app_curation import add_candidates

from app.exporting import export_selected


def test_export_selected_candidates(qtbot, make_window, project_path, tmp_path):
    add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7])
    w = make_window()
    assert w.open_project(project_path)
    w.candidate_table.select_rows([0, 2])
    ids = sorted(int(w.state.candidates.ids[i]) for i in w.state.selected)
    assert w.actions["export"].isEnabled()
    out = tmp_path / "exported"
    assert export_selected(w, out)
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=180_000)
    assert w.last_error is None, w.last_error
    names = {p.name for p in out.iterdir()}
    for cid in ids:
        assert any(n.endswith(f"candidate{cid}.glb") for n in names) and any(n.endswith(f"candidate{cid}.ply")
                                                                             for n in names)
    assert {"overlay.png", "view3d.png", "turntable.mp4"} <= names
    assert "Exported 2 candidates: 9 files" in w.status_message.text()
