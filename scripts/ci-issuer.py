#!/usr/bin/env python3
"""A CI platform's OIDC issuer for the federation tests (docs/service-accounts.md).

Serves what GitHub Actions and GitLab publish — a discovery document and a JWKS — on a
loopback port, and signs identity tokens on request with keys made by PyJWT and `cryptography`
(the JOSE library written by others: patdesk's verifier never meets code of its own making).

    ci-issuer.py PORT

GET  /.well-known/openid-configuration, /.well-known/jwks   what patdesk fetches
POST /sign     {"claims": {...}, "key": "rsa"|"ec"|"next", "lie": null|"tampered"|"alg_none"|
                "hmac_public"}  → the JWT as text. `iss`, `iat`, `nbf`, `exp` (+300 s) and a
                random `jti` are filled in unless given; a claim given as null is left out.
POST /publish-next   adds the "next" key to the JWKS (a key rotation).
"""

import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PORT = int(sys.argv[1])
ISSUER = f"http://127.0.0.1:{PORT}"

KEYS = {
    "rsa": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "ec": ("ES256", ec.generate_private_key(ec.SECP256R1())),
    "next": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
}
KIDS = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in KEYS}
PUBLISHED = {"rsa", "ec"}


def public_jwk(name):
    alg, private = KEYS[name]
    exporter = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    jwk = exporter.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": KIDS[name], "alg": alg, "use": "sig"})
    return jwk


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(request):
    now = int(time.time())
    claims = {"iss": ISSUER, "iat": now, "nbf": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    for name, value in request.get("claims", {}).items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    name = request.get("key", "rsa")
    alg, private = KEYS[name]
    headers = {"kid": KIDS[name]}
    lie = request.get("lie")
    if lie == "alg_none":
        return jwt.encode(claims, None, algorithm="none", headers=headers)
    if lie == "hmac_public":
        # The classic confusion attack: HS256 keyed with the published public key.
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
        payload = b64(json.dumps(claims).encode())
        signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{b64(signature)}"
    token = jwt.encode(claims, private, algorithm=alg, headers=headers)
    if lie == "tampered":
        header, _, signature = token.split(".")
        forged = dict(claims, sub=claims.get("sub", "") + "-forged")
        return f"{header}.{b64(json.dumps(forged).encode())}.{signature}"
    return token


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/.well-known/openid-configuration":
            self.answer(200, {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/.well-known/jwks"})
        elif self.path == "/.well-known/jwks":
            self.answer(200, {"keys": [public_jwk(name) for name in sorted(PUBLISHED)]})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/sign":
            self.answer(200, sign(request), "text/plain")
        elif self.path == "/publish-next":
            PUBLISHED.add("next")
            self.answer(200, {"published": sorted(PUBLISHED)})
        else:
            self.answer(404, {"error": "not found"})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
