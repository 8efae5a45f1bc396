"""Helpers shared by the window tests."""

from __future__ import annotations


def wait_for_result(qtbot, window, name: str | None = None, timeout: int = 20_000):
    """Wait until the window shows a result (for the file called ``name``, if given); return it."""

    def shown():
        r = window.last_result
        assert r is not None and (name is None or r.name == name)
        assert r.request_id == window._latest_request

    qtbot.waitUntil(shown, timeout=timeout)
    return window.last_result
