"""The back office's form for issuing an API token."""

from typing import Any

from django import forms

from accounts.models import ApiToken
from appointments.models import Department


class ApiTokenCreateForm(forms.ModelForm):
    """A new token for a user, optionally adding the user to departments; the secret is shown once."""

    actor: Any = None
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
        if user is not None and not self.actor.is_superuser:
            # A token acts as its user: a manager may not mint access beyond their own departments.
            outside = user.departments.exclude(pk__in=Department.objects.visible_to(self.actor).values("pk"))
            if user.is_superuser or outside.exists():
                self.add_error("user", "This user reaches departments outside yours; ask a superuser.")
        return cleaned
