from __future__ import annotations

import math
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts import login_throttle, time_zones
from accounts.models import User


class LockOutMessageMixin:
    """Says so when the login throttle refused a log-in (accounts/login_throttle.py),
    instead of "Email or password is incorrect.", which would send the person on
    guessing. Axes marks the request when it refused it, or when this failure
    reached the limit."""

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                lock = login_throttle.lock_for(self.request, self.cleaned_data.get("username"))
                if lock is not None:
                    raise forms.ValidationError(_lock_message(lock), code="locked") from None
            raise


def _lock_message(lock: login_throttle.Lock) -> str:
    if lock.account and lock.address:
        what = "for this email address and from your network address"
    elif lock.account:
        what = "for this email address"
    else:
        what = "from your network address"
    return (
        f"Too many failed log-ins {what}: logging in is locked for "
        f"{_duration(lock.remaining.total_seconds())}."
    )


def _duration(seconds: float) -> str:
    """Whole minutes, rounded up ("15 minutes", "1 hour 5 minutes"): a lock
    that has 14 min 59.9 s left is a 15-minute lock to the person reading."""
    hours, minutes = divmod(max(1, math.ceil(seconds / 60)), 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


class LoginForm(LockOutMessageMixin, AuthenticationForm):
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


class AdminLoginForm(LockOutMessageMixin, AdminAuthenticationForm):
    """Django admin's login form (``admin.site.login_form``), with the lock-out
    message of the product's."""


class UserSettingsForm(forms.ModelForm):
    """Your settings: what each person chooses for themselves."""

    class Meta:
        model = User
        fields = ("time_zone",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        helpdesk = time_zones.helpdesk_zone_name()
        field = forms.ChoiceField(
            label="Time zone",
            required=False,
            choices=[("", f"The helpdesk's ({helpdesk})")]
            + [(name, name) for name in time_zones.zone_names()],
            help_text="Every date and time in chats, tickets and transcripts is shown in it.",
        )
        self.fields["time_zone"] = field
