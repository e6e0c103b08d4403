"""Static files in production: collected under hashed names with gzip copies, served compressed and cached for
good; in development and the tests, served as they are from static/ and the apps."""

import gzip
import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static

from tests.support import ROOT, empty_database_env, gunicorn

BUNDLE = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_a_collected_hashed_file_is_served_compressed_with_a_far_future_max_age(tmp_path) -> None:
    env = {
        **empty_database_env(tmp_path),  # the page and the files read no rows
        "STATIC_USE_FINDERS": "0",  # what the image and `make serve` set
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "0",
        "SECRET_KEY": "static-files-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env={**os.environ, **env}, check=True, timeout=120,
    )  # fmt: skip
    source = Path(sys.modules["drf_spectacular_sidecar"].__file__ or "").parent / "static" / BUNDLE
    with gunicorn(env) as port:
        status, _, page = get(port, "/api/docs")
        assert status == 200
        # The page links the bundle under its hashed name, which the manifest records.
        linked = re.search(
            rb'src="(/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.[0-9a-f]{12}\.js)"', page
        )
        assert linked, page[:2000]
        url = linked.group(1).decode()

        status, headers, body = get(port, url, **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        assert headers["cache-control"] == "max-age=315360000, public, immutable"
        assert gzip.decompress(body) == source.read_bytes()
        assert len(body) < source.stat().st_size / 3

        # A client that takes no gzip gets the same file as it is.
        status, headers, body = get(port, url)
        assert status == 200
        assert "content-encoding" not in headers
        assert body == source.read_bytes()


def test_development_and_the_tests_serve_static_files_as_they_are() -> None:
    """No collectstatic is needed to run the tests or `make run`: plain names, found in the apps by WhiteNoise."""
    assert settings.WHITENOISE_USE_FINDERS
    assert static(BUNDLE) == f"/static/{BUNDLE}"
