"""The step-through viewer live on the playground page and on a replay permalink, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from playground.models import Run
from playground.starters import all_starters
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.test_playground_flow import add_client, open_playground, send_from
from tests.factories import make_user
from tests.support.learner_code import BURST

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_echo_run_steps_live_and_replays_from_a_share_link(page, browser, daphne_server):
    open_playground(page, daphne_server.url)
    card = add_client(page)
    send_from(card, "step me")
    expect(card.locator("tr.log-received")).to_contain_text("step me")
    card.get_by_role("button", name="Close").click()
    expect(card.locator(".client-state")).to_have_text("closed")

    viz = page.get_by_test_id("visualizer")
    rows = viz.locator(".viz-table tbody tr")
    expect(rows).to_have_count(5)
    kinds = [rows.nth(i).get_attribute("data-kind") for i in range(5)]
    assert kinds == ["connect", "accept", "receive", "send", "disconnect"]
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "disconnect")
    # Seed 001's variable tracker, column by column.
    expect(viz.locator('[data-variable="c1.connection_state"] td')).to_have_text(
        ["None", "Accepted", "Open", "Open", "Closed"]
    )

    viz.get_by_role("button", name="First").click()
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 1 of 5"))
    viz.get_by_role("button", name="Forward").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "accept")
    state_row = viz.locator('[data-variable="c1.connection_state"]')
    expect(state_row.locator("td").last).to_have_text("Accepted")
    viz.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "send")
    page.keyboard.press("ArrowLeft")
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "receive")
    rows.nth(0).click()
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 1 "))
    expect(state_row.locator("td")).to_have_count(1)
    viz.get_by_label("Go to step").fill("99")
    viz.get_by_role("button", name="Go", exact=True).click()
    expect(viz.get_by_test_id("goto-message")).to_have_text("There is no step 99: steps run from 1 to 5.")
    expect(viz.get_by_label("Go to step")).to_have_attribute("aria-invalid", "true")
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 1 "))
    viz.get_by_label("Go to step").fill("3")
    viz.get_by_role("button", name="Go", exact=True).click()
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 3 "))
    expect(viz.get_by_test_id("goto-message")).to_have_text("")

    page.get_by_role("button", name="Stop").click()
    page.get_by_role("link", name="Replay this run").click()
    expect(page).to_have_url(re.compile(r"/playground/runs/\d+/$"))
    expect(page.locator(".viz-table tbody tr")).to_have_count(5)
    share_url = page.get_by_label("Share link").input_value()

    stranger = browser.new_context()
    other = stranger.new_page()
    run = Run.objects.get()
    other.goto(f"{daphne_server.url}/playground/runs/{run.pk}/")  # without the share token: asked to sign in
    expect(other).to_have_url(re.compile(rf"/accounts/login/\?next=/playground/runs/{run.pk}/$"))
    expect(other.get_by_label("Username")).to_be_visible()
    assert other.goto(share_url).status == 200
    expect(other.locator(".viz-table tbody tr")).to_have_count(5)
    stranger.close()


def test_replay_is_private_to_its_owner_without_the_share_link(page, daphne_server):
    owner = make_user("owner")
    run = Run.objects.create(learner=owner, code="x = 1", started_at="2026-01-01T00:00:00Z", events=[])
    make_user("nosy")
    log_in(page, daphne_server.url, "nosy")
    assert page.goto(f"{daphne_server.url}/playground/runs/{run.pk}/").status == 404
    assert page.goto(f"{daphne_server.url}/playground/runs/{run.pk}/?share=wrong").status == 404


def test_pause_on_each_event_with_two_clients(page, daphne_server):
    open_playground(page, daphne_server.url, "chat_room")
    first = add_client(page, "/ws/chat/lobby/")
    second = add_client(page, "/ws/chat/lobby/")
    page.get_by_label("Pause on each event").check()
    send_from(first, "held message")
    pending = page.get_by_test_id("pending")
    expect(pending).to_be_visible()
    expect(pending.locator("li")).to_have_count(1)
    page.wait_for_timeout(300)
    received, held = second.locator("tr.log-received"), pending.locator("li")
    expect(received).to_have_count(0)  # nothing reaches c2 while the call is held
    for _ in range(12):  # step the oldest held call until the message reaches c2
        expect(held.or_(received).first).to_be_attached()
        if received.count():
            break
        oldest = held.first.get_attribute("data-id")
        page.get_by_role("button", name="Step", exact=True).click()
        expect(pending.locator(f'li[data-id="{oldest}"]')).to_have_count(0)
    expect(received).to_contain_text("held message")
    page.get_by_label("Pause on each event").uncheck()
    expect(first.locator("tr.log-received")).to_contain_text("held message")
    expect(pending).to_be_hidden()


def test_lanes_show_a_group_send_fanning_out_to_each_member(page, daphne_server):
    page.goto(daphne_server.url + "/lessons/groups/execution/")
    lanes = page.get_by_test_id("lanes")
    page.get_by_test_id("visualizer").get_by_role("button", name="Last").click()
    expect(lanes.locator("svg")).to_have_attribute("aria-label", re.compile(r"messages between 5 lanes"))
    expect(lanes.locator(".lane-group_send")).to_have_count(1)
    expect(lanes.locator(".lane-handler")).to_have_count(2)
    expect(lanes.locator(".lane-label").filter(has_text="group chat_lobby")).to_have_count(1)


@pytest.mark.parametrize("starter", list(all_starters()))
def test_every_starter_runs_and_steps_in_the_visualizer(page, daphne_server, starter):
    open_playground(page, daphne_server.url, starter)
    page.get_by_role("button", name="Add client").click()
    card = page.locator(".client-card").last
    card.get_by_role("button", name="Connect").click()
    expect(card.locator(".client-state")).to_have_text(re.compile(r"^(open|closed)$"))
    if card.locator(".client-state").text_content() == "open":
        send_from(card, '{"message": "hello"}')
        expect(card.locator("tr.log-sent")).to_have_count(1)

    viz = page.get_by_test_id("visualizer")
    rows = viz.locator(".viz-table tbody tr")
    expect(viz.locator('.viz-table tbody tr[data-kind="connect"]')).to_have_count(1)
    expect(rows.nth(1)).to_be_attached()
    viz.get_by_role("button", name="First").click()
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 1 of \d+"))
    expect(viz.locator('[data-variable="c1.connection_state"] td')).to_have_text(["None"])
    viz.get_by_role("button", name="Forward").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-index", "1")
    viz.get_by_role("button", name="Last").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-index", str(rows.count() - 1))


def test_a_long_run_keeps_a_window_of_rows_and_still_reaches_every_step(page, daphne_server):
    make_user("long-runner")
    log_in(page, daphne_server.url, "long-runner")
    page.goto(daphne_server.url + "/playground/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    page.evaluate("(code) => window.playground.editor.raw.setValue(code, -1)", BURST)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-status")).to_have_text("running")
    card = add_client(page, "/ws/burst/")
    send_from(card, "350")
    viz = page.get_by_test_id("visualizer")
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 353 of 353"))
    expect(card.locator(".client-log tbody tr").last).to_contain_text("349")
    assert card.locator(".client-log tbody tr").count() == 100  # the latest frames; the first ones scrolled out
    assert viz.locator(".viz-table tbody tr").count() == 100

    viz.get_by_role("button", name="First").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-index", "0")
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "connect")
    viz.get_by_label("Go to step").fill("250")
    viz.get_by_role("button", name="Go").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-index", "249")
    expect(viz.locator(".viz-table tr.current")).to_contain_text("send(text_data='246')")
    viz.get_by_role("button", name="Last").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-index", "352")
    assert viz.locator(".viz-table tbody tr").count() == 100
