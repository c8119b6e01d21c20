"""A topic page's learner-independent HTML, rendered once per catalogue instead of on every request.

The header, the mode tabs and lesson body, the pager and the page's links are the same for every learner; only the
completion box and practice answers are theirs. Each (topic, mode) is rendered on first use and kept until the
catalogue is new (a content change, or a test's fresh catalogue).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from lessons.catalogue import Catalogue, ModePage, Topic
from lessons.execution import ExecutionView, build_execution_view, trace_source
from lessons.learner_progress import completion_rule

# Where the learner's parts go inside the rendered mode region: the predictions panel of a recorded run (execution
# mode), then the practice questions with their answers.
PREDICTIONS_SLOT = "\x00predictions\x00"
PRACTICE_SLOT = "\x00practice\x00"


@dataclass(frozen=True)
class TopicParts:
    page: ModePage
    head: SafeString
    header: SafeString
    region_start: SafeString  # the mode region up to the predictions panel
    region_middle: SafeString  # from there up to the practice questions
    region_end: SafeString
    pager: SafeString
    quiz_url: str | None
    completion_rule: str
    execution: ExecutionView | None
    trace_code: str


def optional_url(name: str, *args: str) -> str | None:
    """A URL of a page another app provides, or None while that app has no such page."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _render(catalogue: Catalogue, topic: Topic, mode: str) -> TopicParts:
    previous_topic, next_topic = catalogue.neighbours(topic)
    trace = topic.trace if mode == "execution" else None
    execution = build_execution_view(trace.events) if trace else None
    trace_code = trace_source(trace) if trace else ""
    quiz_url = optional_url("quizzes:start", topic.slug)
    context = {
        "topic": topic,
        "prerequisites": [catalogue.by_slug[slug] for slug in topic.prerequisites],
        "page": topic.modes[mode],
        "previous_topic": previous_topic,
        "next_topic": next_topic,
        "execution": execution,
        "trace_events_id": f"trace-{topic.trace.name}" if topic.trace else "",
        "trace_code": trace_code,
        "playground_url": optional_url("playground:starter", topic.starter) if topic.starter else None,
        "quiz_url": quiz_url,
        "predictions_slot": PREDICTIONS_SLOT,
        "practice_slot": PRACTICE_SLOT,
    }
    region, region_end = render_to_string("lessons/_mode_region_parts.html", context).split(PRACTICE_SLOT)
    region_start, _, region_middle = region.partition(PREDICTIONS_SLOT)
    return TopicParts(
        page=topic.modes[mode],
        head=render_to_string("lessons/_topic_head.html", context),
        header=render_to_string("lessons/_topic_header.html", context),
        region_start=SafeString(region_start),
        region_middle=SafeString(region_middle),
        region_end=SafeString(region_end),
        pager=render_to_string("lessons/_topic_pager.html", context),
        quiz_url=quiz_url,
        completion_rule=completion_rule(topic),
        execution=execution,
        trace_code=trace_code,
    )


_rendered: tuple[Catalogue | None, dict[tuple[str, str], TopicParts]] = (None, {})  # for which catalogue


def topic_parts(catalogue: Catalogue, topic: Topic, mode: str) -> TopicParts:
    """The parts of one topic in one mode, rendered on first use for this catalogue."""
    global _rendered
    if _rendered[0] is not catalogue:
        _rendered = (catalogue, {})
    parts = _rendered[1].get((topic.slug, mode))
    if parts is None:
        parts = _rendered[1][(topic.slug, mode)] = _render(catalogue, topic, mode)
    return parts
