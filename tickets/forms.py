"""Forms of the portal and the console. They check what a person can fix
(empty fields, file size and type) and show it next to the field; the
services check the same rules again, because they are the ones that write."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import lazy

from accounts.models import User
from tickets.errors import AttachmentRefused
from tickets.services import validate_upload

# Long enough for a pasted log excerpt; attach anything bigger as a file.
BODY_MAX_CHARS = 20_000


def _upload_help_text() -> str:
    extensions = ", ".join("." + e.lower() for e in settings.ATTACHMENT_ALLOWED_EXTENSIONS)
    limit_mb = settings.ATTACHMENT_MAX_BYTES / (1024 * 1024)
    return f"Up to {limit_mb:g} MB. Allowed: {extensions}."


_upload_help = lazy(_upload_help_text, str)


class AttachmentField(forms.FileField):
    """One optional file, checked against ATTACHMENT_MAX_BYTES and the
    allowed extensions before the view calls a service."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attachment")
        # Lazy: the limits are settings, read when the form is shown.
        kwargs.setdefault("help_text", _upload_help())
        kwargs.setdefault("widget", forms.FileInput())
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        # ``accept`` only narrows the file picker; the server still checks.
        extensions = ",".join("." + e.lower() for e in settings.ATTACHMENT_ALLOWED_EXTENSIONS)
        return {**super().widget_attrs(widget), "accept": extensions}

    def clean(self, data: object, initial: object = None) -> UploadedFile | None:
        upload = super().clean(data, initial)
        if upload:
            try:
                validate_upload(name=upload.name or "", size=upload.size or 0)
            except AttachmentRefused as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return upload or None


class TicketCreateForm(forms.Form):
    subject = forms.CharField(max_length=200, label="Subject")
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, what you expected, and anything you already tried.",
    )
    file = AttachmentField()


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note",
        required=False,
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    file = AttachmentField()

    def clean(self) -> dict[str, object]:
        data = super().clean()
        # Only complain about an empty note when the file itself was fine;
        # otherwise the file's own error is the useful one.
        if not data.get("body") and not data.get("file") and "file" not in self.errors:
            raise forms.ValidationError("Write a note or attach a file.", code="note_empty")
        return data


class StaffNoteForm(NoteForm):
    is_internal = forms.BooleanField(
        label="Internal",
        required=False,
        help_text="Only staff can see internal notes.",
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label="Assign to")

    def __init__(self, *args: object, assignees: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignees
        field.empty_label = None
        field.label_from_instance = lambda user: user.display_name


class TimeEntryForm(forms.Form):
    minutes = forms.IntegerField(
        label="Minutes",
        min_value=1,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )
    note = forms.CharField(label="Note", required=False, max_length=2000)
    # One id per rendered form: a form posted twice (a double click, the
    # browser resending after a dropped connection) logs the time once.
    client_id = forms.UUIDField(label="Form id", widget=forms.HiddenInput, required=False)
