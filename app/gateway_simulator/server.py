"""The simulator's web app and its command: `python -m app.gateway_simulator --port P --web URL`.

Its keys come from SECRET_KEY, as the demo seed derives them (`demo_gateways.Keys`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from flask import Flask
from werkzeug.serving import make_server

from app.gateway_simulator import checkout, daraja
from app.gateway_simulator.state import Simulator
from app.services.demo_gateways import Keys


def create(simulator: Simulator) -> Flask:
    app = Flask(__name__)
    app.config.update(SIMULATOR=simulator, MAX_CONTENT_LENGTH=256 * 1024)
    app.register_blueprint(daraja.blp)
    app.register_blueprint(checkout.blp)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The demo's stand-in for Daraja and the card processor.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--web", required=True, help="the web server callbacks go to, e.g. http://127.0.0.1:8000")
    parser.add_argument("--public", help="the address a browser reaches this simulator at (default: host:port)")
    parser.add_argument("--answer-after", type=float, default=8.0, help="seconds before an unanswered push is paid")
    args = parser.parse_args(argv)
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        sys.exit("the gateway simulator needs SECRET_KEY (its demo keys are derived from it)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its line per request says nothing a demo needs
    public = args.public or f"http://{'localhost' if args.host == '127.0.0.1' else args.host}:{args.port}"
    simulator = Simulator(keys=Keys.from_secret_key(secret_key), web=args.web, public=public,
                          answer_after=args.answer_after)
    make_server(args.host, args.port, create(simulator), threaded=True).serve_forever()
