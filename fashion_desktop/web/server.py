"""``fashion-serve``: Fashion Lens in a browser and over HTTP (Starlette on uvicorn), loopback by default."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

PROG = "fashion-serve"
log = logging.getLogger("fashion_desktop.web")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def _parser() -> argparse.ArgumentParser:
    from fashion_desktop.web.app import Settings

    d = Settings()
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Serve Fashion Lens's page and HTTP API (POST /api/classify, GET /api/model, GET /healthz).",
        epilog="The camera works on http://localhost; from other machines a browser allows it only over HTTPS "
        "(--ssl-certfile/--ssl-keyfile). SIGTERM or Ctrl-C finishes the requests in hand, then stops.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        metavar="N",
        help=f"analysis threads in the one server process (default: one per core, {d.workers} here)",
    )
    p.add_argument("--queue", type=int, default=d.queue, metavar="N", help="pictures that may wait; beyond: 503")
    p.add_argument("--max-body-mb", type=float, default=d.max_body / 2**20, metavar="MB", help="request body limit")
    p.add_argument("--timeout", type=float, default=d.timeout, metavar="S", help="time limit of one analysis")
    p.add_argument("--max-connections", type=int, default=64, metavar="N", help="open connections; beyond: 503")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", help="allow this origin (CORS)")
    p.add_argument("--model-dir", help="folder with model.keras and model.json (default: bundled)")
    p.add_argument("--ssl-certfile", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--ssl-keyfile", help="... and this private key (PEM)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for name, value in (
        ("--workers", args.workers),
        ("--queue", args.queue + 1),
        ("--max-connections", args.max_connections),
    ):
        if value < 1:
            _parser().error(f"{name} must be at least 1")
    if not 0 <= args.port <= 65535:
        _parser().error("--port must be from 0 to 65535")
    if args.max_body_mb <= 0 or args.timeout <= 0:
        _parser().error("--max-body-mb and --timeout must be positive")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=args.log_level.upper(), format=f"{PROG}: %(message)s")

    import uvicorn

    from fashion_desktop.web.app import Settings, create_app

    settings = Settings(
        max_body=int(args.max_body_mb * 2**20),
        workers=args.workers,
        queue=args.queue,
        timeout=args.timeout,
        cors_origins=tuple(args.cors_origin),
        allowed_hosts=LOOPBACK_NAMES if args.host in LOOPBACK_HOSTS else None,
        model_dir=args.model_dir,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
        limit_concurrency=args.max_connections,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=int(args.timeout) + 10,
        server_header=False,
        proxy_headers=False,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        lifespan="on",
    )
    server = _server_class()(config)
    failed = []

    def on_loaded(engine) -> None:
        if engine.state == "ready":
            log.info("model loaded: ready for pictures")
        else:
            log.error(engine.error)
            failed.append(engine.error)
            server.should_exit = True  # a server that can never classify should say so and stop

    app.state.on_loaded = on_loaded
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once the requests in hand are answered
        return 130
    return 1 if failed or not server.started else 0


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGTERM (the service manager's "stop") ends in exit status 0 once the
        requests in hand are answered; uvicorn re-raises it after its graceful shutdown, exiting -15."""

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            if sig == signal.SIGTERM:
                self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]

    return Server


if __name__ == "__main__":
    sys.exit(main())
