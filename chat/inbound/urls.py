from django.urls import path

from chat.inbound import webhooks

app_name = "channels"
urlpatterns = [
    path("twilio/sms/", webhooks.twilio_sms, name="twilio_sms"),
    path("twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("whatsapp/", webhooks.whatsapp, name="whatsapp"),
]
