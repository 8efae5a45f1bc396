"""A photo of a person in the window: the main garment tinted in the overlay, the outfit's other items
listed, and a click on one showing its bars and crop and framing it in the picture."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from fashion_desktop.resources import resource_path
from tests.conftest import photo_input_shape
from tests.ui.ui_helpers import wait_for_result

OUTFIT = resource_path("samples", "people", "outfit.jpg")


def test_an_outfit_lists_its_items_and_a_click_shows_one(qtbot, window, classifier):
    window.open_path(OUTFIT)
    result = wait_for_result(qtbot, window, OUTFIT.name)
    a = result.analysis
    assert a.region is not None and a.items
    panel = window.result_panel
    assert panel.outfit.isVisibleTo(window)
    shown = panel.items_shown()
    assert len(shown) == 1 + len(a.items)
    assert shown[0].startswith(f"Main: {a.prediction.label}")
    assert shown[1].startswith(a.items[0].prediction.label)
    assert window.image_view.has_garment()

    main_bars, main_input = panel.bars.shown(), panel.model_input.image()
    panel.items.setCurrentRow(1)
    x0, y0, x1, y1 = a.items[0].box
    h, w = a.image.shape[:2]
    assert window.image_view.frame() == (x0 / w, y0 / h, x1 / w, y1 / h)
    assert panel.bars.shown()[0][0] == a.items[0].prediction.label  # the item's own bars
    assert panel.bars.shown() != main_bars
    crop = panel.model_input.image()
    assert crop is not None and crop != main_input
    assert (crop.height(), crop.width()) == photo_input_shape(classifier, worn=True)[:2]
    seen = a.items[0].model_input  # the crop shown is the item's own input, pixel for pixel
    rgb = crop.convertToFormat(QImage.Format.Format_RGB888 if seen.ndim == 3 else QImage.Format.Format_Grayscale8)
    raw = np.frombuffer(rgb.constBits(), np.uint8, count=rgb.height() * rgb.bytesPerLine())
    shown = raw.reshape(rgb.height(), rgb.bytesPerLine())[:, : rgb.width() * (3 if seen.ndim == 3 else 1)]
    np.testing.assert_array_equal(shown.reshape(seen.shape), seen)

    panel.items.setCurrentRow(0)  # back to the main garment
    assert window.image_view.frame() is None
    assert panel.bars.shown() == main_bars


def test_a_flat_lay_photo_lists_no_items(qtbot, window, sample):
    window.open_path(sample)
    wait_for_result(qtbot, window, sample.name)
    assert not window.result_panel.outfit.isVisibleTo(window)
    assert window.result_panel.items_shown() == []
