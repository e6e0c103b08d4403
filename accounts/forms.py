"""The back office's form for issuing an API token."""

from typing import Any

from django import forms

from accounts.models import ApiToken
from accounts.services import api_token_issue_errors
from appointments.models import Department
from config.actors import Staff


class ApiTokenCreateForm(forms.ModelForm):
    """A new token for a user, optionally adding the user to departments; the secret is shown once."""

    actor: Staff  # set by the admin (a subclass per request): the staff member issuing
    expires_in_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=365, help_text="0: the token never expires."
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        required=False,
        help_text="The user becomes a member of these departments; the token reaches the user's departments.",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = Department.objects.visible_to(self.actor)  # type: ignore[attr-defined]
        if not self.actor.is_superuser:
            mine = Department.objects.visible_to(self.actor)
            self.fields["user"].queryset = (  # type: ignore[attr-defined]
                self.fields["user"].queryset.filter(is_superuser=False, departments__in=mine).distinct()  # type: ignore[attr-defined]
            )

    def _post_clean(self) -> None:
        pass  # the token row is made by api_token_create, not from this form

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user = cleaned.get("user")
        if user is not None:
            departments = cleaned.get("departments") or []
            for field, messages in api_token_issue_errors(actor=self.actor, user=user, departments=departments).items():
                self.add_error(field, messages)
        return cleaned
