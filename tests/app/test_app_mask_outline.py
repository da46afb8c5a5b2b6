"""The image view's mask outline: the detector's person mask, toggled from the image pane."""

import numpy as np
from PyQt6.QtWidgets import QGraphicsPathItem

from app.views.image_overlay import ImageOverlayView
from app.views.mask_outline import MaskOutline
from engine import store
from engine.data.masks import encode_mask


def _disk(h=200, w=300, cx=120, cy=90, r=40) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return ((xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r).astype(np.float32)


def test_outline_follows_the_mask_and_toggles(qtbot):
    view = ImageOverlayView()
    qtbot.addWidget(view)
    outline = MaskOutline(view.scene())
    outline.set_mask(encode_mask(_disk()))
    rect = outline.item.path().boundingRect()
    assert abs(rect.left() - 80) < 2 and abs(rect.right() - 160) < 2
    assert abs(rect.top() - 50) < 2 and abs(rect.bottom() - 130) < 2
    assert not outline.item.isVisible()  # off until toggled
    outline.set_visible(True)
    assert outline.item.isVisible()
    outline.set_mask(None)
    assert outline.item is None
    assert not any(isinstance(i, QGraphicsPathItem) for i in view.scene().items())
    outline.set_mask(b"\x89PNG\r\n\x1a\n broken")
    assert outline.item is None  # a damaged mask draws nothing


def test_pane_outlines_the_current_persons_mask(qtbot, make_window, project_path):
    with store.Project.open(project_path) as p:
        image = store.list_images(p)[0]
        (person,) = store.persons_of_image(p, image.id)
        h, w = 512, 512
        p_id = store.add_person(p, image.id, person.box, person.keypoints,
                                detector={"mask": encode_mask(_disk(h, w, 256, 200, 100))})
    win = make_window()
    assert win.open_project(project_path)
    pane = win.image_pane
    assert not pane.mask_check.isEnabled()  # the first person has no detector mask
    win.state.set_person(p_id)
    win.flush_views()
    assert pane.mask_check.isEnabled() and pane.mask_outline.item is not None
    assert not pane.mask_outline.item.isVisible()
    pane.mask_check.setChecked(True)
    assert pane.mask_outline.item.isVisible()
    rect = pane.mask_outline.item.path().boundingRect()
    assert abs(rect.center().x() - 256) < 3 and abs(rect.center().y() - 200) < 3
