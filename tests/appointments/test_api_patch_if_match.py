"""PATCH with If-Match: a stale ETag is a 412 and changes nothing; each answer's ETag chains to the next."""

from tests.helpers import patch_url as url
from tests.helpers import snapshot

# --- If-Match ---------------------------------------------------------------------------------------------------


def test_stale_if_match_is_412_and_changes_nothing(api, appointment) -> None:
    etag = api.get(url(appointment))["ETag"]
    assert (
        api.patch(url(appointment), {"duration_in_minutes": 50}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    )
    before = snapshot(appointment)
    response = api.patch(url(appointment), {"duration_in_minutes": 70}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert set(response.json()) == {"message"}
    assert snapshot(appointment) == before


def test_current_if_match_and_patch_etag_chain(api, appointment) -> None:
    etag = api.get(url(appointment))["ETag"]
    first = api.patch(url(appointment), {"duration_in_minutes": 50}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    second = api.patch(url(appointment), {"duration_in_minutes": 55}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert second.status_code == 200
    assert api.patch(url(appointment), {"duration_in_minutes": 60}, format="json", HTTP_IF_MATCH="*").status_code == 200
    weak = "W/" + second["ETag"]
    assert (
        api.patch(url(appointment), {"duration_in_minutes": 65}, format="json", HTTP_IF_MATCH=weak).status_code == 412
    )
