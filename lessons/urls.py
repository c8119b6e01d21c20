from __future__ import annotations

from django.urls import path

from lessons import views

app_name = "lessons"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("pygments.css", views.pygments_css, name="pygments-css"),
    path("<slug:slug>/", views.topic_detail, name="topic"),
    path("<slug:slug>/complete/", views.complete, name="complete"),
    path("<slug:slug>/practice/answer/", views.practice_answer, name="practice-answer"),
    path("<slug:slug>/<slug:mode>/", views.mode_detail, name="mode"),
]
