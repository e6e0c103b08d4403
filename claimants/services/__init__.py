"""Every rule about a claimant and their data: phone numbers in E.164, typed data values, required items,
data following an appointment to another department, and changes to a department's data fields.

The `*_plan_*` functions validate without writing and return what they would write together with their errors
(keyed by the dot paths of the request fields), so the appointment service can report every error of one
request together and write nothing when any is found; the `*_apply` functions write a checked plan.

Required fields: a required item must be given when the claimant is created and cannot be emptied afterwards.
An item that is empty because its field was added (or made required) later does not block other changes: the
API and the back office both accept a change that leaves it alone (docs/decisions.md).

One module per concern: `values` (what a value must be), `claimant` (a claimant's creation and change), `data_items`
(data items following their department's changes). Callers import from here.
"""

from claimants.services.claimant import (
    ClaimantPlan,
    claimant_apply,
    claimant_create,
    claimant_plan_create,
    claimant_plan_update,
    claimant_set,
)
from claimants.services.data_items import (
    DepartmentMove,
    claimant_data_apply_move,
    claimant_data_field_added,
    claimant_data_field_change,
    claimant_data_field_plan_change,
    claimant_data_moved,
    claimant_data_plan_move,
)
from claimants.services.values import (
    EARLIEST_DATE_OF_BIRTH,
    Errors,
    clean_data_value,
    merge_errors,
    normalise_phone_number,
)

__all__ = [
    "EARLIEST_DATE_OF_BIRTH",
    "ClaimantPlan",
    "DepartmentMove",
    "Errors",
    "claimant_apply",
    "claimant_create",
    "claimant_data_apply_move",
    "claimant_data_field_added",
    "claimant_data_field_change",
    "claimant_data_field_plan_change",
    "claimant_data_moved",
    "claimant_data_plan_move",
    "claimant_plan_create",
    "claimant_plan_update",
    "claimant_set",
    "clean_data_value",
    "merge_errors",
    "normalise_phone_number",
]
