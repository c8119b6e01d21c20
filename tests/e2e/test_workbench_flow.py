"""The workbench in a real browser: the shipped code font, code beside its step-through on one screen, errors where
the eye is, and the same read-only component on the replay page and every lesson's step-by-step execution page."""

from __future__ import annotations

import base64
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lessons.catalogue import get_catalogue
from lessons.execution import trace_source
from playground.models import Run
from playground.starters import all_starters
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.test_playground_flow import add_client, open_playground, send_from
from tests.e2e.views import shoot_both_widths
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CODE_FONT = "JetBrains Mono"
WIDE = {"width": 1366, "height": 900}

# The box, relative to the editor element, of the first underscore's character cell: one character wide, one line
# box tall, as Ace lays the line out. (Put it below the first line, which touches the editor's border.)
UNDERSCORE_CELL = """(element) => {
  const editor = element.env.editor;
  const lines = editor.session.getDocument().getAllLines();
  const row = lines.findIndex((text) => text.includes("_"));
  const column = lines[row].indexOf("_");
  editor.scrollToLine(row, false, false, () => {});
  editor.renderer.updateFull(true);
  const cell = editor.renderer.textToScreenCoordinates(row, column);
  const box = element.getBoundingClientRect();
  return { x: cell.pageX - box.left, y: cell.pageY - box.top, width: editor.renderer.characterWidth,
           height: editor.renderer.lineHeight, text: lines[row] };
}"""

# Pixels of a PNG's rectangle that differ clearly from the colour most of the rectangle has (the background).
INK_IN = """async ({ png, cell }) => {
  const image = new Image();
  image.src = `data:image/png;base64,${png}`;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const x = Math.ceil(cell.x), y = Math.ceil(cell.y);
  const width = Math.floor(cell.x + cell.width) - x, height = Math.floor(cell.y + cell.height) - y;
  const data = context.getImageData(x, y, width, height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = `${data[i]},${data[i + 1]},${data[i + 2]}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const background = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0].split(",").map(Number);
  const rows = [];
  for (let i = 0; i < data.length; i += 4) {
    const distance = Math.abs(data[i] - background[0]) + Math.abs(data[i + 1] - background[1]) + Math.abs(data[i + 2] - background[2]);
    if (distance > 120) rows.push(Math.floor(i / 4 / width));
  }
  return { ink: rows.length, rows: [...new Set(rows)], height };
}"""

FONT_LOADED = """(family) => document.fonts.check(`14px "${family}"`)
  && [...document.fonts].some((face) => face.family.replaceAll('"', "") === family && face.status === "loaded")"""


def console_errors(page) -> list[str]:
    """Every error the page logs (a script error, a failed request such as a missing font) from now on."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def assert_underscore_renders(page, editor) -> None:
    """The shipped font is loaded and used, and the underscore's pixels lie inside its own line box."""
    assert page.evaluate("devicePixelRatio") == 1
    page.wait_for_function(FONT_LOADED, arg=CODE_FONT)
    assert editor.evaluate("(el) => getComputedStyle(el).fontFamily").startswith(f'"{CODE_FONT}"')
    cell = editor.evaluate(UNDERSCORE_CELL)
    assert cell["height"] >= 18, f"lines of {cell['height']} px are too short for the 14 px font"
    png = base64.b64encode(editor.screenshot()).decode()
    ink = page.evaluate(INK_IN, {"png": png, "cell": cell})
    assert ink["ink"] >= 3, f"no underscore drawn inside the line box of {cell['text']!r}: {ink}"
    # The underscore is a low stroke: its pixels are in the lower half of the line box.
    assert min(ink["rows"]) >= ink["height"] // 2, ink


def line_row(event, source: str) -> int | None:
    """The editor row (from 0) of a trace event's line, None for a step with no line of this code."""
    return event["line"] - 1 if event["line"] and event["line"] <= len(source.splitlines()) else None


def marker_row(page, editor_selector: str) -> int | None:
    """The row (from 0) the current step's highlight is on, or None."""
    return page.evaluate(
        """(selector) => {
          const markers = Object.values(document.querySelector(selector).env.editor.session.getMarkers(false));
          const marker = markers.find((m) => m.clazz === "viz-current-line");
          return marker ? marker.range.start.row : null;
        }""",
        editor_selector,
    )


# Whether each part a learner reads while stepping is on screen (and inside its own scrolling box).
ON_SCREEN = """(root) => {
  const across = (inner, outer) => inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1;
  const inside = (inner, outer) => across(inner, outer) && inner.left >= outer.left - 1 && inner.right <= outer.right + 1;
  const screen = { top: 0, left: 0, bottom: innerHeight, right: innerWidth };
  const rect = (el) => el && el.getBoundingClientRect();
  const editorBox = rect(root.querySelector(".ace_editor .ace_scroller"));
  const marker = rect(root.querySelector(".ace_editor .viz-current-line"));
  const tableBox = root.querySelector(".viz-table-scroll");
  const header = rect(tableBox.querySelector("thead th"));  // sticky: the cells stay, not their row group
  const row = rect(tableBox.querySelector("tr.current"));
  const tracker = root.querySelector(".viz-tracker");
  const column = rect(tracker.querySelector("thead th.current-step"));
  const unstuck = tracker.querySelector("tbody th");
  // Some steps are no line's, and a consumer of Channels' own has its line in Channels' code.
  const line = Number(tableBox.querySelector("tr.current")?.dataset.line || 0);
  const hasLine = line >= 1 && line <= root.querySelector(".ace_editor").env.editor.session.getLength();
  return {
    // A line's highlight spans the editor's content, as wide as its longest line: its height must be in view.
    editorLine: hasLine ? Boolean(marker) && across(marker, editorBox) && across(marker, screen) : !marker,
    tableRow: Boolean(row) && row.top >= header.bottom - 1 && inside(row, rect(tableBox)) && inside(row, screen),
    tableHeader: inside(header, rect(tableBox)) && inside(header, screen),
    trackerColumn: Boolean(column) && column.left >= rect(unstuck).right - 1 && inside(column, rect(tracker))
      && inside(column, screen),
    scrollY: scrollY,
  };
}"""


def assert_stepping_on_one_screen(page, root_selector: str, steps: int) -> None:
    """From the workbench's top, step through: code line, table row and tracker column stay on screen, unscrolled."""
    page.set_viewport_size(WIDE)
    root = page.locator(root_selector)
    viz = root.get_by_test_id("visualizer")
    viz.get_by_role("button", name="First").click()
    root.evaluate("(el) => el.scrollIntoView({ block: 'start' })")
    start = root.evaluate(ON_SCREEN)["scrollY"]
    forward = viz.get_by_role("button", name="Forward")
    for step in range(1, steps + 1):
        expect(viz.locator(".viz-position")).to_have_text(re.compile(rf"^Step {step} of"))
        seen = root.evaluate(ON_SCREEN)
        assert seen == {
            "editorLine": True,
            "tableRow": True,
            "tableHeader": True,
            "trackerColumn": True,
            "scrollY": start,
        }, f"step {step}: {seen}"
        forward.click()


def test_code_font_draws_underscores_inside_the_line_box_at_scale_1(browser, daphne_server):
    context = browser.new_context(viewport=WIDE, device_scale_factor=1)
    page = context.new_page()
    errors = console_errors(page)
    page.goto(daphne_server.url + "/playground/")
    page.evaluate("window.playground.editor.setValue('x = 1\\ntext_data=None\\n')")
    assert_underscore_renders(page, page.locator("#editor"))

    learner = make_user("fonts")
    now = timezone.now()
    run = Run.objects.create(
        learner=learner, code="x = 1\nself.text_data = None\n", started_at=now, ended_at=now, events=[]
    )
    log_in(page, daphne_server.url, "fonts")
    page.goto(f"{daphne_server.url}/playground/runs/{run.pk}/")
    assert_underscore_renders(page, page.locator("#editor"))

    page.goto(daphne_server.url + "/lessons/consumer-lifecycle/execution/")
    expect(page.locator(".execution")).to_have_attribute("data-viewer", "ready")
    page.wait_for_function(FONT_LOADED, arg=CODE_FONT)
    assert (
        page.locator(".execution-editor")
        .evaluate("(el) => getComputedStyle(el).fontFamily")
        .startswith(f'"{CODE_FONT}"')
    )
    assert errors == []
    context.close()


def test_stepping_a_chat_room_keeps_code_line_table_row_and_tracker_column_on_one_screen(
    page, daphne_server, output_path
):
    errors = console_errors(page)
    page.set_viewport_size(WIDE)
    open_playground(page, daphne_server.url, "chat_room")
    add_client(page, "/ws/chat/lobby/")
    add_client(page, "/ws/chat/lobby/")
    first, second = page.locator('.client-card[data-client="c1"]'), page.locator('.client-card[data-client="c2"]')
    for n in range(3):
        send_from(first, f"hello {n} from c1")
        expect(second.locator("tr.log-received")).to_have_count(2 * n + 1)  # each message reaches both
        send_from(second, f"hello {n} from c2")
        expect(first.locator("tr.log-received")).to_have_count(2 * n + 2)
    viz = page.get_by_test_id("visualizer")
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 42 of 42"))

    assert_stepping_on_one_screen(page, "#playground", 16)
    # The editor follows: the highlight is on the line of the step shown.
    line = page.evaluate("window.playground.visualizer.events[window.playground.visualizer.current].line")
    assert marker_row(page, "#editor") == line - 1
    # The tracker's last column is the current step, scrolled into view however many steps came before.
    viz.get_by_role("button", name="Last").click()
    expect(viz.locator(".viz-tracker thead th.current-step")).to_have_text("Step 42")
    assert page.locator("#playground").evaluate(ON_SCREEN)["trackerColumn"]
    # The header stays above the rows however far the table is scrolled.
    assert page.locator("#playground").evaluate(ON_SCREEN)["tableHeader"]
    assert page.locator(".viz-table-scroll").evaluate("(el) => el.scrollTop") > 0
    # The lanes draw the last steps whole, their lane names in view.
    lanes = viz.get_by_test_id("lanes")
    assert lanes.evaluate("(el) => el.scrollHeight <= el.clientHeight")
    expect(lanes.locator(".lane-text").last).to_have_text("42 send")

    # The client panel has room to read frames.
    data_width = first.locator(".client-log th").nth(4).evaluate("(el) => el.getBoundingClientRect().width")
    assert data_width >= 250, f"the Data column of a client's log is {data_width} px wide"
    expect(first.locator("tr.log-received").last).to_contain_text('{"text": "hello 2 from c2", "mine": false}')
    shoot_both_widths(page, output_path, "workbench-stepping")
    assert errors == []


def test_errors_are_marked_in_the_gutter_and_summarised_beside_run(page, daphne_server, output_path):
    errors = console_errors(page)
    page.set_viewport_size(WIDE)
    make_user("mistaken")
    log_in(page, daphne_server.url, "mistaken")
    page.goto(daphne_server.url + "/playground/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    editor = page.locator("#editor")
    problem = page.get_by_test_id("run-problem")
    run = page.get_by_role("button", name=re.compile(r"^Run"))

    # A syntax error: the gutter marks line 3, the summary sits beside Run, and "Go to line 3" puts the cursor there.
    page.evaluate("window.playground.editor.setValue('x = 1\\n\\ndef broken(:\\n    pass\\n')")
    run.click()
    expect(problem).to_contain_text("Line 3: SyntaxError")
    expect(editor.locator(".ace_gutter-cell.ace_error")).to_have_text("3")
    run_box, problem_box = run.bounding_box(), problem.bounding_box()
    assert 0 < problem_box["y"] - run_box["y"] < 120, (run_box, problem_box)  # right under the Run button
    assert problem_box["y"] + problem_box["height"] < WIDE["height"]  # on the first screen
    problem.get_by_role("button", name="Go to line 3").click()
    assert page.evaluate("window.playground.editor.raw.getCursorPosition().row") == 2
    shoot_both_widths(page, output_path, "workbench-syntax-error")

    # An import error names line 1; the marks of the previous run are gone.
    page.evaluate("window.playground.editor.setValue('import no_such_module_anywhere\\n')")
    run.click()
    expect(problem).to_contain_text("Line 1: ModuleNotFoundError")
    expect(editor.locator(".ace_gutter-cell.ace_error")).to_have_text("1")

    # A traceback from a handler: marked on its line, and each line of the learner's file in Output is a link.
    code = all_starters()["echo"].code.replace("        self.received += 1\n", "        self.received += 1 / 0\n")
    broken_line = code.splitlines().index("        self.received += 1 / 0") + 1
    page.evaluate("(code) => window.playground.editor.setValue(code)", code)
    run.click()
    expect(page.locator("#run-status")).to_have_text("running")
    expect(problem).to_be_hidden()
    card = add_client(page)
    send_from(card, "divide")
    expect(problem).to_contain_text(f"Line {broken_line}: ZeroDivisionError")
    expect(editor.locator(".ace_gutter-cell.ace_error")).to_have_text(str(broken_line))
    console = page.locator("#console")
    # The same failure again (from a second client) keeps one mark: the line does not darken with each one.
    send_from(add_client(page), "divide again")
    expect(console.get_by_role("button", name=f"line {broken_line}", exact=True)).to_have_count(2)
    expect(editor.locator(".editor-error-line")).to_have_count(1)
    page.evaluate("window.playground.editor.raw.gotoLine(1, 0)")
    console.get_by_role("button", name=f"line {broken_line}", exact=True).first.click()
    assert page.evaluate("window.playground.editor.raw.getCursorPosition().row") == broken_line - 1
    expect(page.locator("#editor textarea")).to_be_focused()

    # The "Go to line" control, and a line the code does not have refused in words.
    page.get_by_label("Go to line").fill("5")
    page.locator("#goto-line-form").get_by_role("button", name="Go").click()
    assert page.evaluate("window.playground.editor.raw.getCursorPosition().row") == 4
    page.get_by_label("Go to line").fill("999")
    page.locator("#goto-line-form").get_by_role("button", name="Go").click()
    lines = len(code.splitlines()) + 1
    expect(page.locator("#goto-line-message")).to_have_text(f"The code has lines 1 to {lines}.")
    expect(page.get_by_label("Go to line")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.playground.editor.raw.getCursorPosition().row") == 4
    shoot_both_widths(page, output_path, "workbench-traceback")
    assert errors == []


def test_replay_steps_the_recorded_run_beside_its_read_only_code(page, daphne_server, output_path):
    errors = console_errors(page)
    topic = get_catalogue().get("groups")
    learner = make_user("replayer")
    now = timezone.now()
    run = Run.objects.create(
        learner=learner,
        starter=topic.trace.starter,
        code=trace_source(topic.trace),
        started_at=now,
        ended_at=now,
        end_reason=Run.EndReason.STOPPED,
        events=list(topic.trace.events),
        event_count=len(topic.trace.events),
    )
    log_in(page, daphne_server.url, "replayer")
    page.goto(f"{daphne_server.url}/playground/runs/{run.pk}/")
    assert page.evaluate("window.replay.editor.getValue()") == trace_source(topic.trace)
    assert page.evaluate("window.replay.editor.raw.getReadOnly()")
    assert_stepping_on_one_screen(page, ".replay", len(topic.trace.events))
    assert marker_row(page, "#editor") == line_row(topic.trace.events[-1], trace_source(topic.trace))
    shoot_both_widths(page, output_path, "workbench-replay")
    assert errors == []


def test_every_lesson_execution_page_steps_its_trace_beside_its_source(page, daphne_server, output_path):
    errors = console_errors(page)
    page.set_viewport_size(WIDE)
    topics = [topic for topic in get_catalogue().topics if topic.trace]
    assert len(topics) == 20
    for topic in topics:
        page.goto(f"{daphne_server.url}/lessons/{topic.slug}/execution/")
        box = page.locator(".execution")
        expect(box).to_have_attribute("data-viewer", "ready")
        expect(box.locator(".execution-static")).to_be_hidden()
        source = page.evaluate("document.querySelector('.execution-editor').env.editor.getValue()")
        assert source == trace_source(topic.trace) != "", topic.slug
        viz = box.get_by_test_id("visualizer")
        events = topic.trace.events
        assert marker_row(page, ".execution-editor") == line_row(events[0], source), topic.slug
        viz.get_by_role("button", name="Last").click()
        expect(viz.locator(".viz-position")).to_have_text(f"Step {events[-1]['step']} of {events[-1]['step']}")
        assert marker_row(page, ".execution-editor") == line_row(events[-1], source), topic.slug

    page.goto(f"{daphne_server.url}/lessons/groups/execution/")
    expect(page.locator(".execution")).to_have_attribute("data-viewer", "ready")
    assert_stepping_on_one_screen(page, ".execution-viewer", 8)
    shoot_both_widths(page, output_path, "workbench-lesson-execution")
    assert errors == []
