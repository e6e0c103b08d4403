"""The back office's webhook endpoint form: saved through the same services as the API, in its clean()."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from appointments.models import Department
from config.actors import Actor
from webhooks.models import SUBSCRIBABLE, Endpoint
from webhooks.services import endpoint_create, endpoint_update


class EndpointForm(forms.ModelForm):
    actor: Actor = None  # set by the admin: the staff member saving

    event_types = forms.MultipleChoiceField(
        choices=[(name, name) for name in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )
    # Plain text: the service checks the URL's rules (https, no credentials), as for the API.
    url = forms.CharField(max_length=2000, label="URL", widget=forms.URLInput(attrs={"size": 80}))

    class Meta:
        model = Endpoint
        fields = ["department", "url", "description", "event_types", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)
        department.queryset = Department.objects.visible_to(self.actor)
        if not self.instance._state.adding:
            self.fields["department"].disabled = True

    def _post_clean(self) -> None:
        pass  # the service validates (see clean)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        data = {name: cleaned.get(name) for name in ("url", "description", "event_types", "is_active")}
        try:
            if self.instance._state.adding:
                self.instance = endpoint_create(department=cleaned["department"], data=data, actor=self.actor)
            elif self.changed_data:
                changed = {name: value for name, value in data.items() if name in self.changed_data}
                self.instance = endpoint_update(endpoint=self.instance, data=changed)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                self.add_error(key if key in self.fields else None, errors)
        return cleaned
