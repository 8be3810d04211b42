"""A CSC remote signing service for the tests: certomancer-csc-dummy's server, plus what a real one checks.

The dummy signs for anyone who asks (it says so itself). A real service
checks the signer's PIN at ``credentials/authorize`` and a bearer token on
every call; this adds exactly those two checks around the dummy's own
handlers, answering the way the CSC API does (``{"error", "error_description"}``).

Run as ``python tests/csc_server.py CERTOMANCER_YML PINS_JSON [TOKEN]``: it binds
127.0.0.1 on a free port, prints ``port N`` once it accepts connections, and serves until killed.
"""
from __future__ import annotations

import json
import socket
import sys

from aiohttp import web
from certomancer import registry
from csc_dummy.csc_dummy_server import CSCWithCertomancer, DummyServiceParams


class CheckingCSC(CSCWithCertomancer):
    """The dummy CSC server with a PIN per credential and an optional bearer token."""

    def __init__(self, config: registry.CertomancerConfig, pins: dict[str, str], token: str | None):
        super().__init__(config, service_params=DummyServiceParams(hash_pinning_required=True))
        self.pins = pins
        self.token = token
        self.app.middlewares.append(self.check_token)

    @web.middleware
    async def check_token(self, request: web.Request, handler):
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "invalid_token", "error_description": "Bad access token"},
                                     status=401)
        return await handler(request)

    async def credentials_info(self, request: web.Request):
        answer = await super().credentials_info(request)
        data = json.loads(answer.body)
        # As a real service says it: the credential is explicitly authorized with a PIN.
        data.update(authMode="explicit", PIN={"presence": "true", "format": "N", "label": "PIN"})
        return web.json_response(data)

    async def credentials_authorize(self, request: web.Request):
        params = await request.json()
        expected = self.pins.get(str(params.get("credentialID")))
        if expected is None or params.get("PIN") != expected:
            return web.json_response({"error": "invalid_pin", "error_description": "The PIN is invalid"},
                                     status=400)
        return await super().credentials_authorize(request)


def main() -> None:
    config = registry.CertomancerConfig.from_file(sys.argv[1])
    pins = json.loads(sys.argv[2])
    token = sys.argv[3] if len(sys.argv) > 3 else None
    server = CheckingCSC(config, pins, token)
    server.register_routes()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with another test
    sock.listen(64)  # connections queue from now on, until the app accepts them
    print(f"port {sock.getsockname()[1]}", flush=True)
    web.run_app(server.app, sock=sock, print=None)


if __name__ == "__main__":
    main()
