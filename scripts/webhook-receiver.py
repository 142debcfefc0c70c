#!/usr/bin/env python3
"""A webhook receiver for the tests (docs/webhooks.md), on a loopback port.

Every delivery is verified with `standardwebhooks`, the Standard Webhooks specification's own
library (PyPI), against the secrets the test gave the endpoint; only verified deliveries are
kept. Endpoints are named by the path: POST /hook/<name>.

    webhook-receiver.py PORT

Control, for the tests:
    POST /control/<name>  {"secrets": ["whsec_…"], "down": false, "hold_seconds": 0}
        secrets: any one of them must verify a delivery; down: answer 503 (nothing kept);
        hold_seconds: wait that long before answering (a receiver that is slow).
    GET /received/<name>  {"deliveries": [{"id", "timestamp", "type", "payload", "signature"}],
                           "attempts": N, "refused": N}
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
ENDPOINTS = {}


def endpoint(name):
    return ENDPOINTS.setdefault(
        name,
        {"secrets": [], "down": False, "hold_seconds": 0, "deliveries": [], "attempts": 0, "refused": 0},
    )


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender gave up waiting (or was killed): nothing to answer

    def do_GET(self):
        if self.path.startswith("/received/"):
            with LOCK:
                e = endpoint(self.path[len("/received/"):])
                self.answer(200, {k: e[k] for k in ("deliveries", "attempts", "refused")})
        elif self.path == "/ready":
            self.answer(200, {"ready": True})
        else:
            self.answer(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.startswith("/control/"):
            settings = json.loads(body)
            with LOCK:
                e = endpoint(self.path[len("/control/"):])
                for key in ("secrets", "down", "hold_seconds"):
                    if key in settings:
                        e[key] = settings[key]
            return self.answer(200)
        if not self.path.startswith("/hook/"):
            return self.answer(404)
        name = self.path[len("/hook/"):]
        with LOCK:
            e = endpoint(name)
            e["attempts"] += 1
            hold, down, secrets = e["hold_seconds"], e["down"], list(e["secrets"])
        if hold:
            time.sleep(hold)
        if down:
            return self.answer(503, {"error": "down for the test"})
        headers = {k.lower(): v for k, v in self.headers.items()}
        payload = None
        for secret in secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        if payload is None:
            with LOCK:
                e["refused"] += 1
            return self.answer(400, {"error": "signature not verified"})
        with LOCK:
            e["deliveries"].append(
                {
                    "id": headers.get("webhook-id"),
                    "timestamp": headers.get("webhook-timestamp"),
                    "type": payload.get("type"),
                    "payload": payload,
                    "signature": headers.get("webhook-signature"),
                }
            )
        self.answer(204 if name.endswith("-204") else 200, {"ok": True})


def main():
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
