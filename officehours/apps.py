from django.apps import AppConfig


class OfficehoursConfig(AppConfig):
    name = "officehours"
