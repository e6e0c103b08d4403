"""Reads of claimants' data that the services start from, on the fast path: queries compiled once
(config.prepared), rows made into instances here, so the services hold rules and no SQL plumbing (issue 19.4)."""

import uuid

from claimants.models import ClaimantDataField
from config.prepared import Prepared, columns, from_row

# A department's data fields in their order (the model's ordering).
_FIELDS = Prepared(
    lambda department_id: ClaimantDataField.objects.filter(department_id=department_id).values_list(
        *columns(ClaimantDataField)
    )
)


def department_data_fields(department_id: uuid.UUID) -> list[ClaimantDataField]:
    """The department's claimant data fields, in their order."""
    return [from_row(row, [ClaimantDataField])[0] for row in _FIELDS.rows(department_id)]
