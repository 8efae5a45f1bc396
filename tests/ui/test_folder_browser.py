"""Stepping through a folder's pictures in name order."""

from __future__ import annotations

from fashion_desktop.ui.folder_browser import FolderBrowser


def test_neighbours_in_name_order_and_after_a_deletion(tmp_path):
    for name in ("b.jpg", "A.png", "c.JPG", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.jpg").mkdir()  # a folder with a picture's name is not a picture
    browser = FolderBrowser([".jpg", ".png"])
    a, b, c = tmp_path / "A.png", tmp_path / "b.jpg", tmp_path / "c.JPG"
    assert browser.pictures(tmp_path) == [a, b, c]
    assert browser.neighbour(a, +1) == b
    assert browser.neighbour(b, -1) == a
    assert browser.neighbour(c, +1) is None
    assert browser.neighbour(a, -1) is None
    b.unlink()  # the picture on screen was deleted meanwhile
    assert browser.neighbour(b, +1) == c
    assert browser.neighbour(b, -1) == a
