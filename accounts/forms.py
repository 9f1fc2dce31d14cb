from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Email + password. Every failure gets the same message, so the form
    does not tell whether an address has an account or is disabled."""

    error_messages = {
        "invalid_login": "Email or password is incorrect.",
        "inactive": "Email or password is incorrect.",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "autocapitalize": "none"}
        )
        self.fields["password"].label = "Password"

    def confirm_login_allowed(self, user: object) -> None:
        # The default raises a distinct "inactive" error; keep it generic.
        if not getattr(user, "is_active", False):
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
