"""The Settings dialog's Guidance field: persists, and reaches the engine's sampling settings."""


def test_guidance_setting_persists_and_reaches_the_sampler(qtbot, make_window):
    w = make_window()
    dialog = w.open_settings()
    assert dialog.guidance.value() == 0.0 and dialog.guidance.text() == "Off"
    dialog.guidance.setValue(2.5)
    dialog.accept()
    assert w.state.prefs.guidance_scale == 2.5
    w.close()
    again = make_window()
    assert again.state.prefs.guidance_scale == 2.5
    assert again.state.prefs.sample_settings(seed=0).guidance_scale == 2.5
    assert again.open_settings().guidance.value() == 2.5


def test_orientation_setting_persists_and_reaches_the_sampler(qtbot, make_window):
    w = make_window()
    dialog = w.open_settings()
    assert dialog.orient.isChecked()
    assert w.state.prefs.sample_settings(seed=0).orient
    dialog.orient.setChecked(False)
    dialog.accept()
    assert not w.state.prefs.orient_candidates
    w.close()
    again = make_window()
    assert not again.state.prefs.sample_settings(seed=0).orient
    assert not again.open_settings().orient.isChecked()


def test_fit_start_setting_persists_and_reaches_the_sampler(qtbot, make_window):
    w = make_window()
    dialog = w.open_settings()
    assert dialog.fit_start.value() == 0.05  # the default, chosen on real footage
    assert w.state.prefs.sample_settings(seed=0).fit_start == 0.05
    dialog.fit_start.setValue(0.0)
    assert dialog.fit_start.text() == "Off (from noise)"
    dialog.accept()
    w.close()
    again = make_window()
    assert again.state.prefs.sample_settings(seed=0).fit_start == 0.0
    assert again.open_settings().fit_start.value() == 0.0
