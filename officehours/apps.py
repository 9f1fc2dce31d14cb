from django.apps import AppConfig


class OfficehoursConfig(AppConfig):
    name = "officehours"
    # Shown as the admin section's heading.
    verbose_name = "Office hours"
