from __future__ import annotations

from django.urls import path

from predictions import views

app_name = "predictions"

urlpatterns = [
    path("topics/<slug:slug>/", views.topic_stops, name="topic"),
    path("topics/<slug:slug>/steps/<int:step>/", views.topic_step, name="topic-step"),
    path("runs/<id:pk>/", views.run_stops, name="run"),
    path("runs/<id:pk>/steps/<int:step>/", views.run_step, name="run-step"),
]
