"""The server's parts without a model: loading state, admission (busy), the time limit, imports."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from fashion_desktop.web.engine import Busy, Engine, NotReady, Outcome
from tests.conftest import REPO

pytest.importorskip("starlette")
# Starlette 1.x would rather its TestClient ran on httpx2; httpx (what the other tests use) still works.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


class SlowEngine(Engine):
    """An engine whose model "loads" when told to and whose analysis takes ``seconds``."""

    def __init__(self, seconds: float = 0.3, **kw):
        super().__init__(**{"workers": 1, "queue": 0, "memory_budget": 1 << 30, **kw})
        self.seconds = seconds
        self.release = threading.Event()

    def load(self) -> None:
        self.release.wait(10)
        self.state = "ready"

    def _analyze(self, data, top_k, name, images):
        time.sleep(self.seconds)
        return Outcome({"label": "Coat"}, None, self.seconds * 1e3)


def test_healthz_says_loading_until_the_model_is_ready():
    from starlette.testclient import TestClient

    from fashion_desktop.web.app import Settings, create_app

    engine = SlowEngine()
    with TestClient(create_app(Settings(), engine)) as client:
        r = client.get("/healthz")
        assert r.status_code == 503 and r.json() == {"status": "loading"} and r.headers["retry-after"] == "2"
        r = client.post("/api/classify", content=b"\xff\xd8", headers={"content-type": "image/jpeg"})
        assert r.status_code == 503 and r.json()["error"] == "the model is still loading"
        assert client.get("/api/model").status_code == 503
        engine.release.set()
        deadline = time.monotonic() + 10
        while client.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_a_model_that_failed_to_load_is_said_by_healthz():
    from starlette.testclient import TestClient

    from fashion_desktop.web.app import Settings, create_app

    with TestClient(create_app(Settings(model_dir="/nonexistent-model-folder"))) as client:
        deadline = time.monotonic() + 10
        while (body := client.get("/healthz").json())["status"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert body["status"] == "error" and "model.json" in body["error"]
        r = client.post("/api/classify", content=b"x", headers={"content-type": "image/png"})
        assert r.status_code == 503 and "model.json" in r.json()["error"]


def test_admission_is_bounded_and_a_timed_out_picture_keeps_its_slot_until_done():
    engine = SlowEngine(0.3)
    engine.state = "ready"

    async def scenario():
        one = asyncio.ensure_future(engine.run(b"a", top_k=1, name=None, images=False, timeout=5))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await engine.run(b"b", top_k=1, name=None, images=False, timeout=5)
        assert (await one).row == {"label": "Coat"}
        with pytest.raises(TimeoutError):
            await engine.run(b"c", top_k=1, name=None, images=False, timeout=0.05)
        with pytest.raises(Busy):  # the timed-out picture still holds the thread
            await engine.run(b"d", top_k=1, name=None, images=False, timeout=5)
        await asyncio.sleep(0.4)
        assert (await engine.run(b"e", top_k=1, name=None, images=False, timeout=5)).row["label"] == "Coat"

    try:
        asyncio.run(scenario())
    finally:
        engine.shutdown()
    assert engine._in_hand == 0 and engine._bytes == 0


def test_memory_budget_refuses_a_second_big_picture():
    engine = SlowEngine(0.3, queue=4, memory_budget=10 * 2**20)
    engine.state = "ready"
    import cv2
    import numpy as np

    big = cv2.imencode(".png", np.zeros((2000, 2000, 3), np.uint8))[1].tobytes()  # 12 MB decoded

    async def scenario():
        one = asyncio.ensure_future(engine.run(big, top_k=1, name=None, images=False, timeout=5))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await engine.run(big, top_k=1, name=None, images=False, timeout=5)
        await one

    try:
        asyncio.run(scenario())
    finally:
        engine.shutdown()


def test_not_ready_before_load():
    engine = SlowEngine()
    with pytest.raises(NotReady):
        asyncio.run(engine.run(b"x", top_k=1, name=None, images=False, timeout=1))
    engine.shutdown()


def test_the_web_package_imports_neither_qt_nor_tensorflow():
    code = (
        "import sys, fashion_desktop.web.app, fashion_desktop.web.server; "
        "bad = [m for m in ('PySide6', 'tensorflow', 'keras', 'fashion_desktop.ui') if m in sys.modules]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


FORM = (
    b'--XX\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
    b'--XX\r\nContent-Disposition: form-data; name="file"; filename="C:\\\\photos\\\\a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n\xff\xd8picture\r\n--XX\r\n\r\n--XX--\r\n"
)


def test_the_form_parser_finds_the_file_and_only_its_name():
    from fashion_desktop.web.forms import picture_in_form

    assert picture_in_form(FORM, "multipart/form-data; boundary=XX") == (b"\xff\xd8picture", "a.jpg")


def test_the_form_parser_raises_only_form_errors_on_mangled_forms():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from fashion_desktop.web.forms import FormError, picture_in_form

    @settings(max_examples=300, deadline=None)
    @given(
        st.integers(0, len(FORM)), st.binary(max_size=40), st.integers(0, len(FORM)), st.sampled_from(["XX", "X", ""])
    )
    def mangled(cut: int, junk: bytes, at: int, boundary: str):
        body = (FORM[:at] + junk + FORM[at:])[: cut + len(junk)]
        try:
            data, name = picture_in_form(body, f"multipart/form-data; boundary={boundary}")
        except FormError as exc:
            assert str(exc)
        else:
            assert isinstance(data, bytes) and (name is None or "/" not in name)

    mangled()


def test_analysis_row_lists_the_outfit_items_the_analysis_has():
    from types import SimpleNamespace

    from fashion_desktop.core.classifier import KnownReport, Prediction
    from fashion_desktop.core.serialize import analysis_row

    probs = [0.0] * 10
    probs[4] = 1.0
    pred = Prediction(4, "Coat", 1.0, tuple(probs))
    blur = SimpleNamespace(score=50.0, threshold=31.0, blurry=False)
    known = KnownReport(0.9, 0.3, True)
    analysis = SimpleNamespace(prediction=pred, blur=blur, known=known, source="a.jpg", region=None, items=())
    row = analysis_row(analysis)
    assert row["items"] == [] and row["region"] is None
    trouser = Prediction(1, "Trouser", 0.8, tuple(probs))
    analysis.region = "outerwear"
    analysis.items = (SimpleNamespace(prediction=trouser, known=known, box=(1, 2, 30, 40), region="bottoms"),)
    row = analysis_row(analysis)
    assert row["region"] == "outerwear"
    assert row["items"] == [
        {"label": "Trouser", "confidence": 0.8, "known": True, "box": [1, 2, 30, 40], "region": "bottoms"}
    ]
    analysis.prediction = Prediction(4, "Coat", float("nan"), tuple(probs))
    assert "not numbers" in analysis_row(analysis)["error"]
