"""Issue 19 item 7 in a browser: the owner revokes a replay's share link; the old link stops working, the new works."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from playground.models import Run
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import shoot_both_widths
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_owner_revokes_the_share_link_and_only_the_new_one_works(page, browser, daphne_server, output_path):
    owner = make_user("sharer")
    now = timezone.now()
    run = Run.objects.create(learner=owner, code="x = 1", started_at=now, ended_at=now, end_reason="stopped", events=[])
    log_in(page, daphne_server.url, "sharer")
    page.goto(f"{daphne_server.url}/playground/runs/{run.pk}/")
    old_link = page.get_by_label("Share link").input_value()
    expect(page.get_by_test_id("share-expiry")).to_contain_text("until you revoke it")
    shoot_both_widths(page, output_path, "replay-share")

    page.get_by_label("Link works for").select_option("7")
    page.get_by_role("button", name="Set how long it works").click()
    expect(page.get_by_test_id("share-expiry")).to_contain_text("until 20")
    assert page.get_by_label("Share link").input_value() == old_link

    page.get_by_role("button", name="Revoke and make a new link").click()
    expect(page.locator(".messages")).to_contain_text("no longer works")
    new_link = page.get_by_label("Share link").input_value()
    assert new_link != old_link
    shoot_both_widths(page, output_path, "replay-share-revoked")

    stranger = browser.new_context()
    other = stranger.new_page()
    other.goto(old_link)  # the revoked link shows nothing of the run: a visitor is asked to sign in
    expect(other).to_have_url(re.compile(r"/accounts/login/\?next="))
    assert other.goto(new_link).status == 200
    expect(other.get_by_role("heading", name=f"Replay of run {run.pk}")).to_be_visible()
    expect(other.get_by_label("Share link")).to_have_count(0)  # only the owner sees and changes the link
    stranger.close()
