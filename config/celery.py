import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _register_beat(sender: Celery, **kwargs: object) -> None:
    # The clocks of the product: every sweep runs from here (presence/tasks.py).
    from django.conf import settings

    sender.conf.beat_schedule = {
        "sweep-every-few-seconds": {
            "task": "presence.tasks.sweep",
            "schedule": float(settings.SWEEP_SECONDS),
        },
        # A stuck row is queued again at most every few minutes (chat.requeue):
        # its sweeps need no faster clock.
        "requeue-sweep": {
            "task": "presence.tasks.requeue_sweep",
            "schedule": float(settings.REQUEUE_SWEEP_SECONDS),
        },
    }
