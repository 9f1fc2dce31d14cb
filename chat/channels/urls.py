from django.urls import path

from chat.channels import views

app_name = "channel_media"
urlpatterns = [
    path("<str:token>/", views.media_file, name="file"),
]
