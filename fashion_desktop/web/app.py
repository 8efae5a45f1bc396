"""The Starlette application: the page, ``POST /api/classify``, ``GET /api/model``, ``GET /healthz``."""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import PackageNotFoundError, version

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fashion_desktop.core import CLASS_NAMES
from fashion_desktop.web.engine import Busy, Engine, NotReady
from fashion_desktop.web.forms import FormError, picture_in_form

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    max_body: int = 20 * MB  # bytes of one request body, counted while it is read
    workers: int = os.cpu_count() or 1  # analysis threads
    queue: int = 32  # pictures that may wait for a thread; beyond: 503
    memory_budget: int = 1024 * MB  # decode footprint of the pictures in hand; beyond: 503
    timeout: float = 20.0  # seconds for one analysis; beyond: 503
    read_timeout: float = 30.0  # seconds to receive one body (a slow client holds a connection, not a thread)
    cors_origins: tuple[str, ...] = ()  # no CORS unless configured
    # Host names a request may name (None: any). A server on loopback answers only to loopback names, so a
    # web page whose domain is re-pointed at 127.0.0.1 (DNS rebinding) cannot use it as its own origin.
    allowed_hosts: tuple[str, ...] | None = None
    model_dir: str | None = None


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status, headers=headers)


# -- security headers (a pure ASGI middleware: BaseHTTPMiddleware would cost a task per request) ---------
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_headers)


# -- reading a picture from a request --------------------------------------------------------------------
RAW_TYPES = ("image/", "application/octet-stream")


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (Content-Length is checked first, a chunked
    body while it streams), and with 408 when it takes over ``timeout`` seconds to arrive."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPError(400, "the Content-Length header is not a number")
        if int(declared) > limit:
            raise HTTPError(413, f"the request body is {_mb(int(declared))}; the limit is {_mb(limit)}")

    async def collect() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPError(413, f"the request body is over the limit of {_mb(limit)}")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        raise HTTPError(408, f"the request body took longer than {timeout:g} s to arrive") from None


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n:,} bytes"


async def picture_from(request: Request, settings: Settings) -> tuple[bytes, str | None]:
    """(the picture's bytes, its file name or None) from a multipart form (field ``file``, or the first file)
    or a raw ``image/*`` / ``application/octet-stream`` body. The file name only labels the answer."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data" and not ctype.startswith(RAW_TYPES):
        shown = ctype or "none"
        raise HTTPError(
            415,
            f"the request's Content-Type is {shown}; send the picture as multipart/form-data (a field "
            "'file') or as a raw body with Content-Type image/jpeg, image/png, ... or application/octet-stream",
        )
    body = await read_body(request, settings.max_body, settings.read_timeout)
    if ctype != "multipart/form-data":
        if not body:
            raise HTTPError(400, "the request has no picture in it (the body is empty)")
        return body, None

    try:
        data, name = await asyncio.to_thread(picture_in_form, body, request.headers["content-type"])
    except FormError as exc:
        raise HTTPError(400, str(exc)) from None
    if not data:
        raise HTTPError(400, "the uploaded file is empty (0 bytes)")
    return data, name


def _query_int(request: Request, key: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HTTPError(400, f"{key} must be a whole number from {low} to {high}")
    return int(raw)


def _query_flag(request: Request, key: str) -> bool:
    return request.query_params.get(key, "").lower() in ("1", "true", "yes")


# -- endpoints ---------------------------------------------------------------------------------------------
async def classify(request: Request) -> Response:
    from fashion_desktop.core.classifier import ModelError
    from fashion_desktop.core.images import ImageError

    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    try:
        top_k = _query_int(request, "top_k", 1, 1, len(CLASS_NAMES))
        images = _query_flag(request, "images")
        if engine.state != "ready":  # before reading a 20 MB body that could not be used
            raise NotReady(engine.error or "the model is still loading")
        data, name = await picture_from(request, settings)
        outcome = await engine.run(data, top_k=top_k, name=name, images=images, timeout=settings.timeout)
    except HTTPError as exc:
        return _error(exc.status, exc.message, exc.headers)
    except ImageError as exc:
        return _error(422, str(exc))
    except Busy as exc:
        return _error(503, str(exc), {"Retry-After": "1"})
    except NotReady as exc:
        return _error(503, str(exc), {"Retry-After": "2"})
    except TimeoutError:
        return _error(503, f"the picture took longer than {settings.timeout:g} s to analyse", {"Retry-After": "5"})
    except ModelError as exc:
        return _error(500, str(exc))
    if "error" in outcome.row:  # the model's figures were not numbers: our fault, not the picture's
        return _error(500, outcome.row["error"])
    body = dict(outcome.row)
    if outcome.images:
        body["images"] = outcome.images
    return JSONResponse(body, headers={"Server-Timing": f"analyze;dur={outcome.ms:.1f}"})


def _app_version() -> str:
    try:
        return version("fashion-lens")
    except PackageNotFoundError:
        return "unknown"


async def model_info(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    classifier = engine.classifier
    if engine.state != "ready" or classifier is None:
        return _error(503, engine.error or "the model is still loading", {"Retry-After": "2"})
    meta = classifier.metadata
    metrics = meta.get("metrics") or {}
    real = metrics.get("real_photos") or {}
    clean = metrics.get("clean") or {}
    figures = {
        "accuracy": metrics.get("accuracy"),
        "per_class_recall": clean.get("per_class_recall"),
        "real_photos": {
            k: real.get(k) for k in ("top1", "min_folder_top1", "unknown_detected", "known_judged_unknown")
        },
    }
    body = {
        "classes": list(CLASS_NAMES),
        "version": _app_version(),
        "model": {
            "file": meta.get("file"),
            "sha256": meta.get("sha256"),
            "parameters": meta.get("parameters"),
            "preprocessing_version": meta.get("preprocessing_version"),
            "known_threshold": classifier.known_threshold,
            "known_score": meta.get("known_score"),
        },
        "figures": figures,
        "photo_model": _photo_model(classifier, classifier.for_photos()),
        "worn_model": _photo_model(classifier, classifier.for_photos(worn=True)),
        "limits": _limits(request.app.state.settings),
    }
    return JSONResponse(json.loads(json.dumps(body, default=str)))


def _photo_model(classifier, photos) -> dict | None:
    """A model that judges photos (``photo_model``: every picture over 28 x 28; ``worn_model``: garments on
    a person), when it is not the one above."""
    if photos is classifier:
        return None
    meta = photos.metadata
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return {
        "file": meta.get("file"),
        "sha256": meta.get("sha256"),
        "parameters": meta.get("parameters"),
        "input_shape": list(photos.input_shape),
        "known_threshold": photos.known_threshold,
        "known_score": meta.get("known_score"),
        "held_out_top1_by_label": {
            k: (metrics.get(k) or {}).get("top1_labelled")
            for k in ("real_photos", "real_photos_extra", "ccp_worn_garments")
            if isinstance(metrics.get(k), dict)
        },
    }


def _limits(settings: Settings) -> dict:
    from fashion_desktop.core.images import MAX_DECODE_BYTES, MAX_PIXELS

    return {
        "max_body_bytes": settings.max_body,
        "max_pixels": MAX_PIXELS,
        "max_decode_bytes": MAX_DECODE_BYTES,
        "analysis_timeout_s": settings.timeout,
        "workers": settings.workers,
        "queue": settings.queue,
    }


async def healthz(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    if engine.state == "ready":
        return JSONResponse({"status": "ok"})
    body = {"status": engine.state}
    if engine.error:
        body["error"] = engine.error
    return JSONResponse(body, 503, headers={"Retry-After": "2"})


# -- the page: files read once from the package; no request path ever reaches the file system ------------
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/icon.svg": ("icon.svg", "image/svg+xml"),
}


def _static_routes() -> list[Route]:
    folder = resources.files("fashion_desktop.web") / "static"
    routes = []
    for url, (name, mime) in STATIC.items():
        content = (folder / name).read_bytes()

        async def serve(request: Request, content=content, mime=mime) -> Response:
            return Response(content, media_type=mime, headers={"Cache-Control": "no-cache"})

        routes.append(Route(url, serve, methods=["GET", "HEAD"]))
    return routes


async def openapi(request: Request) -> Response:
    from fashion_desktop.web.openapi import schema

    return JSONResponse(schema(_app_version()))


async def not_found(request: Request, exc) -> Response:
    status = getattr(exc, "status_code", 404)
    message = {404: "there is nothing at this address", 405: "this address does not take that method"}
    return _error(status, message.get(status, getattr(exc, "detail", "error")))


async def server_error(request: Request, exc) -> Response:
    return _error(500, f"an internal error ({type(exc).__name__}); the server goes on")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Starlette:
    """The application; the model starts loading on a thread when the server starts (lifespan), so the
    event loop answers ``/healthz`` ("loading", 503) at once and the picture routes when it is ready."""
    settings = settings or Settings()
    engine = engine or Engine(settings.workers, settings.queue, settings.memory_budget, settings.model_dir)

    @asynccontextmanager
    async def lifespan(app):
        loading = asyncio.get_running_loop().run_in_executor(None, engine.load)
        on_loaded = getattr(app.state, "on_loaded", None)
        if on_loaded is not None:
            loading.add_done_callback(lambda _: on_loaded(engine))
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, engine.shutdown)

    middleware = [Middleware(SecurityHeaders)]
    if settings.allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)))
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(
            Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"])
        )
    routes = [
        *_static_routes(),
        Route("/api/classify", classify, methods=["POST"]),
        Route("/api/model", model_info, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
    )
    app.state.engine, app.state.settings = engine, settings
    return app
