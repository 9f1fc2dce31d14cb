from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.phones import e164
from accounts.time_zones import validate_time_zone


class Role(models.TextChoices):
    CLIENT = "client", "Client"
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMINISTRATOR = "administrator", "Administrator"


STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMINISTRATOR)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("role", Role.ADMINISTRATOR)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # Emails are stored lower-cased; log-in is case-insensitive.
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in: clients (portal) and staff (console).

    The email address is the login. A client's user is linked to its
    ``Contact``; staff users have no contact.
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLIENT)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May log in to Django admin (administrators)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # Empty: the helpdesk's TIME_ZONE (accounts/time_zones.py), so the value
    # stored never depends on the machine's settings.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text="Dates and times are shown in this zone. Empty: the helpdesk's time zone.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def first_name(self) -> str:
        return (self.full_name or self.email).split()[0].split("@")[0]

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_agent(self) -> bool:
        """Staff who answer chats (agents, supervisors and administrators)."""
        return self.role in STAFF_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMINISTRATOR)


class Company(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a customer company. ``user`` is its portal login, if any."""

    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # ``phone`` in E.164, kept by save(): what an SMS or WhatsApp sender's
    # number is matched against (chat.inbound). Empty when ``phone`` is not
    # a valid number.
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False, db_index=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="contacts")
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
        limit_choices_to={"role": Role.CLIENT},
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.phone_e164 = e164(self.phone) or ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = {*update_fields, "phone_e164"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else ""
