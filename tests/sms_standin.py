"""A local stand-in for the SMS provider's JSON API that `market.sms.services.HttpSender` speaks:
``POST /v1/messages`` with ``Authorization: Bearer <key>`` and ``{"to", "from", "text"}``, answered
``202 {"id": ..., "status": "queued"}``; a wrong key is ``401 {"error": ...}``. Tests read what was
sent (`messages`) and make it fail (`fail_next`). Tests get a fresh one from the `sms_api` fixture
(list this module in `pytest_plugins`)."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "sms_test_key"


class SmsStandIn:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.failures = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path != "/v1/messages":
                    return self._answer(404, {"error": {"message": "no such endpoint"}})
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    return self._answer(401, {"error": {"message": "invalid API key"}})
                if stand_in.failures:
                    stand_in.failures -= 1
                    return self._answer(503, {"error": {"message": "try again later"}})
                if not all(isinstance(body.get(k), str) and body[k] for k in ("to", "from", "text")):
                    return self._answer(400, {"error": {"message": "to, from and text are required"}})
                message = {"id": "msg_" + secrets.token_hex(8), **body}
                stand_in.messages.append(message)
                return self._answer(202, {"id": message["id"], "status": "queued"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fail_next(self, times: int = 1) -> None:
        self.failures = times

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sms_api() -> Iterator[SmsStandIn]:
    stand_in = SmsStandIn()
    yield stand_in
    stand_in.stop()
