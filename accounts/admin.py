"""Django admin for people: users (email login, roles), companies and contacts, and the
login lock-outs (django-axes' access attempts)."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from accounts.models import STAFF_ROLES, Company, Contact, Role, User


def _clean_email(form: forms.ModelForm) -> str:
    # Logins are case-insensitive and stored lower-cased (UserManager does the
    # same); reject an address that differs from another only by case.
    email = form.cleaned_data["email"].strip().lower()
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise forms.ValidationError("A user with this email address already exists.")
    return email


def _check_client_has_no_admin_access(form: forms.ModelForm) -> None:
    # Clients must never reach Django admin: it would show them every ticket.
    data = form.cleaned_data
    if data.get("role") == Role.CLIENT and (data.get("is_staff") or data.get("is_superuser")):
        raise forms.ValidationError(
            "Clients cannot have admin access. Give the user a staff role first."
        )


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")

    def clean_email(self) -> str:
        return _clean_email(self)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = (
            "email",
            "password",
            "full_name",
            "role",
            "time_zone",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )

    def clean_email(self) -> str:
        return _clean_email(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _check_client_has_no_admin_access(self)
        return cleaned


class ContactOfUserInline(admin.StackedInline):
    """A client's contact record, shown on its user for quick reference."""

    model = Contact
    fk_name = "user"
    extra = 0
    max_num = 1
    can_delete = False
    fields = ("name", "company", "email", "phone")
    autocomplete_fields = ("company",)
    verbose_name = "contact record"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "role", "time_zone")}),
        (
            "Access",
            {
                "fields": ("is_active", "is_staff", "is_superuser"),
                "description": (
                    "Role decides portal or console. Admin access needs “staff”; "
                    "administrators usually also get “superuser”."
                ),
            },
        ),
        (
            "Permissions",
            {"classes": ("collapse",), "fields": ("groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = (
        "email",
        "full_name",
        "role",
        "company",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
    )
    list_filter = ("role", "is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "full_name", "contact__company__name")
    ordering = ("email",)
    list_select_related = ("contact__company",)
    filter_horizontal = ("groups", "user_permissions")
    inlines = (ContactOfUserInline,)

    @admin.display(description="Company", ordering="contact__company__name")
    def company(self, obj: User) -> str:
        contact = getattr(obj, "contact", None)
        return contact.company.name if contact else "—"

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type]:
        # Only clients have a contact; staff users have none.
        if obj is None or not obj.is_client:
            return []
        return list(self.inlines)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The autocomplete of a ticket's assignee or a time entry's agent only
        # offers active staff; the form would refuse anyone else anyway.
        if request.path.endswith("/autocomplete/") and request.GET.get("field_name") in {
            "assignee",
            "agent",
        }:
            queryset = queryset.filter(role__in=STAFF_ROLES, is_active=True)
        return queryset, may_have_duplicates


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "phone", "user")
    autocomplete_fields = ("user",)
    show_change_link = True


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "contact_count", "ticket_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)
    inlines = (ContactInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _contacts=Count("contacts", distinct=True),
                _tickets=Count("tickets", distinct=True),
            )
        )

    @admin.display(description="Contacts", ordering="_contacts")
    def contact_count(self, obj: Company) -> int:
        return obj._contacts  # type: ignore[attr-defined]

    @admin.display(description="Tickets", ordering="_tickets")
    def ticket_count(self, obj: Company) -> int:
        return obj._tickets  # type: ignore[attr-defined]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ("name", "email", "phone", "company", "user")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = cleaned.get("user")
        email = cleaned.get("email")
        # A contact with a portal login is reached at that login's address
        # (transcripts, notifications): keep the two from drifting apart.
        if user is not None and not email:
            cleaned["email"] = user.email
        return cleaned


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = ("name", "email", "phone", "company", "user", "created_at")
    list_filter = ("company",)
    search_fields = ("name", "email", "phone", "company__name", "user__email")
    list_select_related = ("company", "user")
    autocomplete_fields = ("company", "user")
    readonly_fields = ("created_at",)


# Login lock-outs (accounts/login_throttle.py): an administrator lifts one by
# deleting the rows of the email or of the address (search for it, then
# "Delete selected access attempts"). Axes' own admin, for the attempts only:
# no access or failure logs are kept (AXES_ENABLE_ADMIN is off).
admin.site.register(AccessAttempt, AccessAttemptAdmin)
