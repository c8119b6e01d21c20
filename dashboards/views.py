"""Instructor dashboards and the learner's side of cohorts (join, leave)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import is_instructor
from cohorts.access import cohorts_taught_by, learner_ids
from cohorts.models import Cohort, Membership
from config.requests import AuthenticatedHttpRequest
from dashboards import challenge_stats, drilldown, exports, feed, removals, services
from dashboards.charts import activity_per_day, completion_per_topic
from dashboards.forms import CohortForm, CoInstructorForm, RotateForm
from dashboards.progress_matrix import build_matrix, sort_and_filter
from dashboards.question_stats import topic_report
from dashboards.statistics import ATTEMPT_SELECTIONS, DEFAULT_ATTEMPT_SELECTION
from lessons.catalogue import get_catalogue
from lessons.views import get_topic_or_404
from playground.models import Run
from playground.run.limits import run_limits


def instructor_required(view):
    """Signed-in instructors only; others get the friendly 403 page."""

    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_instructor(request.user):
            raise PermissionDenied("Dashboards are for instructors.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@instructor_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The instructor's cohorts, and a form to create one."""
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cohort = services.create_cohort(request.user, form.cleaned_data["name"], form.cleaned_data["expires_in_days"])
        messages.success(request, f"Cohort “{cohort.name}” created. Share its join link with your learners.")
        return redirect("dashboards:cohort", pk=cohort.pk)
    cohorts = cohorts_taught_by(request.user).order_by("-created_at")
    return render(request, "dashboards/index.html", {"cohorts": cohorts, "form": form})


@instructor_required
def cohort_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress matrix, join link, members and the live activity feed."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    topics, rows = build_matrix(cohort)
    sort, query, stuck = (
        request.GET.get("sort", "name"),
        request.GET.get("q", "")[:150],
        request.GET.get("stuck") == "1",
    )
    feed_items = feed.recent(cohort)
    active_since = timezone.now() - timedelta(seconds=run_limits().lifetime_seconds)
    playing = Run.objects.filter(
        learner_id__in=learner_ids(cohort), ended_at__isnull=True, started_at__gte=active_since
    ).select_related("learner")
    context = {
        "cohort": cohort,
        "topics": topics,
        "rows": sort_and_filter(rows, sort, query, stuck),
        "learner_total": len(rows),
        "sort": sort,
        "query": query,
        "stuck": stuck,
        "playing": playing,
        "join_url": request.build_absolute_uri(reverse("dashboards:join", args=[cohort.join_code])),
        "instructors": cohort.memberships.filter(role=Membership.Role.INSTRUCTOR).select_related("user"),
        "rotate_form": RotateForm(),
        "co_form": CoInstructorForm(),
        "removals": removals.recent(request.session, cohort.pk),
        "completion_chart": completion_per_topic(topics, rows),
        "activity_chart": activity_per_day([row.user_id for row in rows]),
        "feed_items": feed_items,
        "feed_older": feed.older_than(feed_items),
        "feed_hours": settings.DASHBOARD_FEED_RETENTION_HOURS,
    }
    return render(request, "dashboards/cohort.html", context)


@instructor_required
def activity(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored activity feed, a page at a time, going back DASHBOARD_FEED_RETENTION_HOURS."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    before = parse_id(request.GET.get("before"))
    items = feed.recent(cohort, before=before)
    context = {
        "cohort": cohort,
        "items": items,
        "newest": before is None,
        "older": feed.older_than(items),
        "feed_hours": settings.DASHBOARD_FEED_RETENTION_HOURS,
    }
    return render(request, "dashboards/activity.html", context)


@instructor_required
def activity_since(request: HttpRequest, pk: int) -> JsonResponse:
    """Feed items after an id, newest first, as JSON: a dashboard whose socket (re)opens fetches what it missed."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    items = feed.recent(cohort, after=parse_id(request.GET.get("after")) or 0)
    return JsonResponse({"items": [feed.item_json(item) for item in items]})


def attempt_selection(request: HttpRequest) -> str:
    """Which attempts the statistics count: ?attempts= when it names a choice, else the default."""
    selection = request.GET.get("attempts", DEFAULT_ATTEMPT_SELECTION)
    return selection if selection in ATTEMPT_SELECTIONS else DEFAULT_ATTEMPT_SELECTION


def parse_id(raw: str | None) -> int | None:
    """A positive id from a query string, or None for anything else."""
    return int(raw) if raw and raw.isdigit() and len(raw) <= 18 else None


@instructor_required
def learner_detail(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """One learner's timeline: attempts with answers, hints and time, challenges, and playground runs with replays."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), cohort=cohort, user_id=user_id, role=Membership.Role.LEARNER
    )
    runs = (
        Run.objects.filter(learner_id=user_id)
        .order_by("-started_at")
        .only("pk", "starter", "started_at", "ended_at", "end_reason", "event_count", "error_count")
    )
    context = {
        "cohort": cohort,
        "learner": membership.user,
        "attempts": drilldown.attempt_views(user_id),
        "runs": runs,
        "challenges": challenge_stats.learner_challenges(user_id),
        "timeline": drilldown.timeline(user_id),
    }
    return render(request, "dashboards/learner.html", context)


@instructor_required
@require_POST
def rotate_link(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    form = RotateForm(request.POST)
    if form.is_valid():
        services.rotate_join_code(cohort, form.cleaned_data["expires_in_days"])
        messages.success(request, "New join link created; the old one no longer works.")
    else:
        messages.error(request, "The expiry must be a whole number of days from 1 to 365.")
    return redirect("dashboards:cohort", pk=pk)


@instructor_required
@require_POST
def add_instructor(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    form = CoInstructorForm(request.POST)
    try:
        if not form.is_valid():
            raise services.CohortError("Give the co-instructor's username.")
        user = services.add_co_instructor(cohort, form.cleaned_data["username"])
        messages.success(request, f"{user.get_username()} now co-teaches this cohort.")
    except services.CohortError as error:
        messages.error(request, str(error))
    return redirect("dashboards:cohort", pk=pk)


@instructor_required
def remove_member(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the learner or co-instructor, undoable for a while."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    membership = get_object_or_404(Membership.objects.select_related("user"), cohort=cohort, user_id=user_id)
    if request.method != "POST":
        context = {"cohort": cohort, "membership": membership, "undo_minutes": undo_minutes()}
        return render(request, "dashboards/confirm_remove.html", context)
    try:
        removals.remember(request.session, cohort.pk, services.remove_member(cohort, user_id))
        messages.success(request, f"{membership.user.get_username()} was removed from the cohort.")
    except services.CohortError as error:
        messages.error(request, str(error))
    return redirect("dashboards:cohort", pk=pk)


def undo_minutes() -> int:
    return settings.DASHBOARD_REMOVE_UNDO_SECONDS // 60


@instructor_required
@require_POST
def undo_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """Put back someone this instructor removed, within DASHBOARD_REMOVE_UNDO_SECONDS."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    removal = removals.take(request.session, cohort.pk, user_id)
    try:
        if removal is None:
            raise services.CohortError("That removal can no longer be undone; share the join link instead.")
        services.restore_member(cohort, user_id, removal.role, removal.joined_at)
        messages.success(request, f"{removal.username} is back in the cohort.")
    except services.CohortError as error:
        messages.error(request, str(error))
    return redirect("dashboards:cohort", pk=pk)


@instructor_required
def export_gradebook(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The gradebook as CSV: one row per learner."""
    return exports.gradebook(services.get_cohort_for_instructor_or_404(request.user, pk))


@login_required
def join(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """GET shows what the learner is joining; POST joins."""
    cohort = Cohort.objects.filter(join_code=code).first()
    if cohort is None or not cohort.join_is_open():
        return render(
            request,
            "dashboards/join.html",
            {"error": "This join link is not valid any more. Ask your instructor for a new one."},
            status=404,
        )
    if request.method == "POST":
        services.join_cohort(request.user, code)
        messages.success(request, f"You joined “{cohort.name}”.")
        return redirect("dashboards:my-cohorts")
    return render(request, "dashboards/join.html", {"cohort": cohort})


@login_required
def my_cohorts(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("cohort").order_by("cohort__name")
    return render(request, "dashboards/my_cohorts.html", {"memberships": memberships})


@login_required
@require_POST
def leave(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    services.leave_cohort(request.user, pk)
    messages.success(request, "You left the cohort.")
    return redirect("dashboards:my-cohorts")


@instructor_required
def question_statistics(request: HttpRequest, pk: int, topic: str) -> HttpResponse:
    """Item analysis of one topic's questions (Moodle's definitions) over the attempts the instructor chose."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    topic_obj = get_topic_or_404(topic)
    selection = attempt_selection(request)
    chosen_topic = request.GET.get("topic")
    if chosen_topic and chosen_topic != topic_obj.slug:  # the form's topic menu moves to that topic's page
        target = reverse("dashboards:questions", args=[pk, get_topic_or_404(chosen_topic).slug])
        return redirect(f"{target}?attempts={selection}")
    context = {
        "cohort": cohort,
        "topic": topic_obj,
        "report": topic_report(cohort, topic_obj.slug, selection),
        "selections": ATTEMPT_SELECTIONS,
        "default_selection": DEFAULT_ATTEMPT_SELECTION,
        "topics": get_catalogue().topics,
    }
    return render(request, "dashboards/questions.html", context)


@instructor_required
def challenge_failures(request: HttpRequest, pk: int) -> HttpResponse:
    """Which challenge tests the cohort's learners fail most, counted by learners."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    rows = challenge_stats.test_failures(learner_ids(cohort))
    return render(request, "dashboards/challenges.html", {"cohort": cohort, "rows": rows})


@instructor_required
def export_questions(request: HttpRequest, pk: int, topic: str) -> StreamingHttpResponse:
    """Question statistics of one topic as CSV."""
    cohort = services.get_cohort_for_instructor_or_404(request.user, pk)
    return exports.question_statistics(cohort, get_topic_or_404(topic).slug, attempt_selection(request))


@instructor_required
def export_answers(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every answer of the cohort's learners as CSV."""
    return exports.answers(services.get_cohort_for_instructor_or_404(request.user, pk))
