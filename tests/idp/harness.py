"""The test identity provider (tests/idp/serve.py) started as a subprocess on a free port, and the settings that
point the service at it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config.settings.security import CONTENT_SECURITY_POLICY as LOCAL_POLICY
from config.settings.sso import policy_with_providers
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "appointments-service"
CLIENT_SECRET = "test client secret, local provider only"
PROVIDER_ID = "test-idp"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class Provider:
    base: str
    key: rsa.RSAPrivateKey
    database: Path

    @property
    def issuer(self) -> str:
        return f"{self.base}/o"

    def set_groups(self, username: str, groups: list[str]) -> None:
        """What an administrator does at the provider: the user's groups become these."""
        with sqlite3.connect(self.database) as db:
            (user_id,) = db.execute("SELECT id FROM auth_user WHERE username = ?", (username,)).fetchone()
            db.execute("DELETE FROM auth_user_groups WHERE user_id = ?", (user_id,))
            for name in groups:
                db.execute("INSERT OR IGNORE INTO auth_group (name) VALUES (?)", (name,))
                (group_id,) = db.execute("SELECT id FROM auth_group WHERE name = ?", (name,)).fetchone()
                db.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)", (user_id, group_id))

    def settings_for(self, group_map: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The service's settings for this provider (what OIDC_PROVIDERS and OIDC_GROUP_MAP would give)."""
        provider = {"id": PROVIDER_ID, "name": "Test IdP", "issuer": self.issuer, "client_id": CLIENT_ID}
        return {
            "CONTENT_SECURITY_POLICY": policy_with_providers(LOCAL_POLICY, [provider]),
            "OIDC_PROVIDERS": [provider],
            "OIDC_GROUP_MAP": group_map,
            "SOCIALACCOUNT_PROVIDERS": {
                "organisation": {
                    "SCOPE": ["openid", "profile", "email"],
                    "APPS": [
                        {
                            "provider_id": PROVIDER_ID,
                            "name": "Test IdP",
                            "client_id": CLIENT_ID,
                            "secret": CLIENT_SECRET,
                            "settings": {
                                "server_url": self.issuer,
                                "oauth_pkce_enabled": True,
                                "fetch_userinfo": True,
                            },
                        }
                    ],
                }
            },
        }


@contextmanager
def running_provider(tmp_path: Path, redirect_base: str, users: list[tuple[str, str, list[str]]]) -> Iterator[Provider]:
    port = free_port()
    key = new_key()
    database = tmp_path / "idp.sqlite3"
    env = {
        **os.environ,
        "IDP_BASE_URL": f"http://127.0.0.1:{port}",
        "IDP_DATABASE": str(database),
        "IDP_PRIVATE_KEY": pem(key),
        "IDP_CLIENT_ID": CLIENT_ID,
        "IDP_CLIENT_SECRET": CLIENT_SECRET,
        "IDP_REDIRECT_URI": f"{redirect_base}/accounts/organisation/{PROVIDER_ID}/login/callback/",
        "IDP_USERS": json.dumps(users),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.idp.serve", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "ready", f"the test identity provider did not start: {line!r}"
        yield Provider(base=f"http://127.0.0.1:{port}", key=key, database=database)
    finally:
        process.terminate()
        process.wait(timeout=10)
