"""Thousands of schemathesis cases against gunicorn, every phase (coverage included) and the same checks as the
suite's bounded pass. Run by hand (the bar is 0 server errors):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/fuzz.py [--max-examples 100]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings (no DEBUG) need a SECRET_KEY; a run of its own, shared with the servers it starts.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.db import connection  # noqa: E402

from tests.support import ROOT, demo_client_token, gunicorn, throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with throwaway_database("bench_fuzz") as database:
        token = demo_client_token()
        connection.close()
        env = {
            **database,
            "API_RATE_LIMIT": "1000000/min",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        with gunicorn(env, workers=2) as port:
            result = subprocess.run(  # noqa: S603 (our own dev tool, arguments we build)
                [str(Path(sys.executable).with_name("st")), "--config-file", str(ROOT / "schemathesis.toml"), "run", f"http://127.0.0.1:{port}/api/schema",
                 "--header", f"Authorization: Bearer {token}", "--checks", "all",
                 "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                 "--generation-database", "none", "--workers", "2"],
                check=False,
            )  # fmt: skip
        sys.exit(result.returncode)


if __name__ == "__main__":
    main()
