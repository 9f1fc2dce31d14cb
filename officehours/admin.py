"""Django admin for office hours: the schedule with its weekly intervals and holidays."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from officehours import services
from officehours.models import Holiday, Schedule, WeeklyInterval


def _timezone_choices(current: str | None) -> list[tuple[str, str]]:
    names = set(zoneinfo.available_timezones())
    if current:
        # Keep a stored zone selectable even if this machine's tz database lacks it.
        names.add(current)
    return [(name, name) for name in sorted(names)]


class ScheduleForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        choices=(), help_text="Intervals and holidays are in this zone's local time."
    )

    class Meta:
        model = Schedule
        fields = ("name", "timezone", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.timezone if self.instance.pk else "UTC"
        self.fields["timezone"].choices = _timezone_choices(current)
        self.fields["timezone"].initial = current
        if not self.instance.pk:
            # A new schedule starts inactive when another one is in use.
            self.fields["is_active"].initial = not Schedule.objects.filter(is_active=True).exists()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("is_active"):
            other = Schedule.objects.filter(is_active=True).exclude(pk=self.instance.pk).first()
            if other is not None:
                self.add_error(
                    "is_active",
                    f"“{other}” is the active schedule. Save this one inactive, then use "
                    "the “Make active” action on the list to switch.",
                )
        return cleaned


class WeeklyIntervalInline(admin.TabularInline):
    model = WeeklyInterval
    extra = 0
    fields = ("weekday", "start", "end")
    verbose_name = "opening interval"
    verbose_name_plural = (
        "opening intervals (local time; an end at or before the start runs past "
        "midnight; 00:00–00:00 is the whole day)"
    )


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0
    fields = ("date", "name")
    verbose_name_plural = (
        "holidays (closes the intervals that start on that date; an overnight "
        "interval from the evening before still runs to its end)"
    )


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ("name", "timezone", "is_active", "interval_count", "open_now", "opens")
    list_filter = ("is_active",)
    search_fields = ("name", "timezone")
    fields = ("name", "timezone", "is_active", "open_now", "opens")
    readonly_fields = ("open_now", "opens")
    inlines = (WeeklyIntervalInline, HolidayInline)
    actions = ("make_active",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Schedule]:
        # The status columns compute from intervals and holidays: load them once.
        return super().get_queryset(request).prefetch_related("intervals", "holidays")

    @admin.display(description="Intervals")
    def interval_count(self, obj: Schedule) -> int:
        return len(obj.intervals.all())

    @admin.display(description="Open now", boolean=True)
    def open_now(self, obj: Schedule) -> bool | None:
        if not obj.pk:
            return None
        return services.is_open(timezone.now(), schedule=obj)

    @admin.display(description="Next opening")
    def opens(self, obj: Schedule) -> str:
        if not obj.pk:
            return "—"
        return services.describe_next_opening(timezone.now(), schedule=obj)

    @admin.action(description="Make the selected schedule the active one")
    def make_active(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one schedule.", messages.WARNING)
            return
        schedule = services.schedule_activate(schedule=queryset.get())
        self.message_user(request, f"“{schedule}” is now the active schedule.", messages.SUCCESS)


@admin.register(WeeklyInterval)
class WeeklyIntervalAdmin(admin.ModelAdmin):
    """All intervals at a glance; usually edited inline on their schedule."""

    list_display = ("schedule", "weekday", "start", "end", "crosses_midnight")
    list_filter = ("schedule", "weekday")
    list_select_related = ("schedule",)
    autocomplete_fields = ("schedule",)

    @admin.display(description="Past midnight", boolean=True)
    def crosses_midnight(self, obj: WeeklyInterval) -> bool:
        return obj.crosses_midnight


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Holidays across years; usually edited inline on their schedule."""

    list_display = ("date", "name", "schedule")
    list_filter = ("schedule",)
    search_fields = ("name",)
    list_select_related = ("schedule",)
    autocomplete_fields = ("schedule",)
    date_hierarchy = "date"
