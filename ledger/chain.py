"""The ledger's canonical form and its hashes (docs/decisions.md, "The ledger's hash chain").

An entry's hash is SHA-256, in lowercase hex, of the UTF-8 bytes of this JSON object (keys sorted, no spaces,
non-ASCII escaped as \\uXXXX, no NaN):

    {"actor": {"id": <actor_id>, "type": <actor_type>}, "appointment": <appointment id, hyphenated lowercase>,
     "channel": <channel>, "data": <data>, "occurred_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC),
     "personal": <personal_digest, "" when none>, "previous": <previous entry's hash>,
     "sequence": <sequence>, "type": <type>}

The first entry's `previous` is 64 zeros (GENESIS). The personal part is hashed apart: `personal_digest` is
SHA-256 of the canonical JSON of {"salt": <32 hex>, "values": <values>}, so emptying `personal` later changes no
hash, and the salt keeps a digest of a short value (a phone number, a date of birth) from being guessed back.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def plain(value: Any) -> Any:
    """`value` as JSON gives it back (times, dates, UUIDs and decimals as text), so what is hashed at writing is
    what is read back to verify."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def moment(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    appointment_id: Any,
    sequence: int,
    occurred_at: datetime,
    actor_type: str,
    actor_id: str,
    channel: str,
    type: str,
    data: Mapping[str, Any],
    personal_digest: str,
    previous_hash: str,
) -> str:
    body = {
        "actor": {"id": actor_id, "type": actor_type},
        "appointment": str(appointment_id),
        "channel": channel,
        "data": data,
        "occurred_at": moment(occurred_at),
        "personal": personal_digest,
        "previous": previous_hash,
        "sequence": sequence,
        "type": type,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def sealed_personal(values: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The personal part as stored (values with a fresh salt) and its digest."""
    stored = {"salt": secrets.token_hex(16), "values": plain(values)}
    return stored, personal_digest(stored)


def personal_digest(stored: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({"salt": stored["salt"], "values": stored["values"]})).hexdigest()
