from django.urls import path

from tickets import views_files

app_name = "files"
urlpatterns = [
    path("attachments/<int:attachment_id>/", views_files.attachment_download, name="attachment"),
]
