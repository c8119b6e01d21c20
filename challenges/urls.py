from __future__ import annotations

from django.urls import path

from challenges import views

app_name = "challenges"

urlpatterns = [
    path("", views.challenge_list, name="index"),
    path("runs/<id:pk>/", views.grading_run, name="run"),
    path("<slug:slug>/", views.challenge_detail, name="detail"),
    path("<slug:slug>/run-tests/", views.run_tests, name="run-tests"),
    path("<slug:slug>/hint/", views.hint, name="hint"),
]
