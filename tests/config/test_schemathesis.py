"""A bounded, seeded schemathesis pass against a real HTTP server (pytest-django's live server): every
operation of the schema through the examples, fuzzing and stateful phases (about 330 cases in 20 s), and every
check. The coverage phase (about 2,200 cases, two minutes) belongs to the longer runs by hand (`bench/fuzz.py`).

`schemathesis.toml` says what else a well-formed request may be answered with (a business rule's 422, a stale
If-Match's 412) and turns off the fuzzing phase's error feedback, which adds fields the schema forbids and still
counts the case as schema-valid (docs/decisions.md, "Schema checks"). No 5xx, status codes, content types,
headers and bodies as documented, schema-valid bodies accepted, invalid ones refused, authentication never
ignored.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.throttling import UserRateThrottle

from tests.support import demo_client_token

MAX_EXAMPLES = 25
SEED = 20261125


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_nothing(live_server, monkeypatch, tmp_path) -> None:
    # The pass sends a few hundred requests in a minute; the rate limit is tested elsewhere.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "100000/min"})
    token = demo_client_token()
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(  # noqa: S603 (our own dev tool, arguments we build)
        [
            str(st),
            "--config-file",
            str(Path(__file__).resolve().parents[2] / "schemathesis.toml"),
            "run",
            f"{live_server.url}/api/schema",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--phases",
            "examples,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--warnings",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    # 27 operations: admit (17.9), rotate-secret (18.23), messages (22.6) and what main added beside, erase, legal
    # hold (place, lift), the personal data export and the search for a person's appointments (issue 21), and an
    # appointment's events (issue 20.3)
    assert "Tested: 27" in result.stdout, summary
    assert " passed" in summary, summary
