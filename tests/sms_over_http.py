"""A text message provider's backend for tests that run the real worker process (issue 22.1's done-when): it posts
each message as JSON (`{"to": ..., "text": ...}`) to SMS_STAND_IN_URL, a small HTTP server the test started on
127.0.0.1 (tests.helpers.Receiver), as a provider's backend posts to its provider. The worker names it by
SMS_BACKEND=tests.sms_over_http.HttpBackend; it lives under tests/ because no production provider speaks this."""

from __future__ import annotations

import json
import os
import urllib.request

from notifications.sms import BaseBackend


class HttpBackend(BaseBackend):
    delivers = False  # nothing reaches a phone

    def send(self, to: str, text: str) -> None:
        url = os.environ["SMS_STAND_IN_URL"]
        if not url.startswith("http://127.0.0.1:"):
            raise ValueError("the stand-in is a local server")
        request = urllib.request.Request(  # noqa: S310 (a local http URL, checked above)
            url,
            data=json.dumps({"to": to, "text": text}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if response.status != 200:
                raise RuntimeError(f"the provider answered {response.status}")
