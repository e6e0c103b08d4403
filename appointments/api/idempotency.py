"""`Idempotency-Key` for creates: a retry with the same key and body gets the first response back.

HTTP-level replay, so it lives with the API; the appointment itself is still created by the service.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from appointments.models import IdempotencyKey

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
HEADER_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string of 1 to 255 visible ASCII characters, per caller, kept 24 hours.",
)


def once(*, request: Request, body: Any, run: Callable[[], Response]) -> Response:
    """Run a create once per `Idempotency-Key`: a retry with the same key and body gets the first response.

    Without the header the create simply runs. With it, the key is taken in the same transaction as the create,
    so a request that fails does not take it.
    """
    key = read_key(request.headers)
    if key is None:
        return run()
    with transaction.atomic():
        claimed = claim(user=request.user, key=key, body_fingerprint=fingerprint(body))
        if isinstance(claimed, Response):
            return claimed
        response = run()
        remember(claimed, response)
    return response


def read_key(headers: Any) -> str | None:
    key = headers.get(HEADER)
    if key is None:
        return None
    if not _VALID_KEY.match(key):
        raise ValidationError({HEADER: ["The Idempotency-Key header must be 1 to 255 visible ASCII characters."]})
    return str(key)


def fingerprint(data: Any) -> str:
    body = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def claim(*, user: Any, key: str, body_fingerprint: str) -> IdempotencyKey | Response:
    """Take the key for this request, or return the response of the request that took it first.

    Must run inside the caller's transaction: the claim commits or rolls back with the appointment. A second
    request with the same key blocks on the unique index until the first one ends.
    """
    IdempotencyKey.objects.filter(user=user, created_at__lt=timezone.now() - TTL).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=body_fingerprint)
    except IntegrityError:
        pass
    first = IdempotencyKey.objects.get(user=user, key=key)
    if first.fingerprint != body_fingerprint:
        raise ValidationError({HEADER: ["This Idempotency-Key was already used with a different request body."]})
    headers = {"Location": first.location, "Idempotent-Replayed": "true"} if first.location else {}
    return Response(first.response_body, status=first.response_status, headers=headers)


def remember(record: IdempotencyKey, response: Response) -> None:
    record.response_status = response.status_code
    record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    record.location = response.get("Location", "")
    record.save(update_fields=["response_status", "response_body", "location"])
