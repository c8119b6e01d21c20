from __future__ import annotations

from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("cohorts/<id:pk>/", views.cohort_detail, name="cohort"),
    path("cohorts/<id:pk>/activity/", views.activity, name="activity"),
    path("cohorts/<id:pk>/activity.json", views.activity_since, name="activity-since"),
    path("cohorts/<id:pk>/learners/<id:user_id>/", views.learner_detail, name="learner"),
    path("cohorts/<id:pk>/rotate/", views.rotate_link, name="rotate"),
    path("cohorts/<id:pk>/instructors/", views.add_instructor, name="add-instructor"),
    path("cohorts/<id:pk>/members/<id:user_id>/remove/", views.remove_member, name="remove-member"),
    path("cohorts/<id:pk>/members/<id:user_id>/undo-remove/", views.undo_remove, name="undo-remove"),
    path("cohorts/<id:pk>/export/gradebook.csv", views.export_gradebook, name="export-gradebook"),
    path("cohorts/<id:pk>/export/answers.csv", views.export_answers, name="export-answers"),
    path("cohorts/<id:pk>/questions/<slug:topic>/", views.question_statistics, name="questions"),
    path("cohorts/<id:pk>/questions/<slug:topic>/export.csv", views.export_questions, name="export-questions"),
    path("cohorts/<id:pk>/challenges/", views.challenge_failures, name="challenges"),
    path("join/<str:code>/", views.join, name="join"),
    path("my-cohorts/", views.my_cohorts, name="my-cohorts"),
    path("my-cohorts/<id:pk>/leave/", views.leave, name="leave"),
]
