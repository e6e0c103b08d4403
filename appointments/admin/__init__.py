"""The staff back office: agents run their day here, under the same rules as the API.

Django's autodiscovery imports this package; these imports register the models' admins (`admin.register`).
One module per concern: `appointment` (the list, the change page), `actions` (the list's actions), `filters`
(the list's views and departments), `views` (booking, history, CSV, the week, the meeting pages' addresses) and
`department`.
"""

from appointments.admin.appointment import AppointmentAdmin
from appointments.admin.department import DepartmentAdmin

__all__ = ["AppointmentAdmin", "DepartmentAdmin"]
