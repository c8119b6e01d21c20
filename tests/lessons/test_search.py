"""Search: a topic's concept page first for the API names the topic says it is about, paging, section anchors."""

from __future__ import annotations

import re

import pytest

from lessons.catalogue import get_catalogue
from lessons.search import about_text, search

pytestmark = pytest.mark.django_db

# Central API names, each taken from its topic's own title, summary or objectives (checked below), with that topic.
CENTRAL_NAMES = {
    "group_send": "groups",
    "group_add": "groups",
    "group_discard": "groups",
    "channel_name": "channel-layers",
    "InMemoryChannelLayer": "channel-layers",
    "RedisChannelLayer": "channel-layers",
    "RedisPubSubChannelLayer": "channel-layers",
    "ChannelFull": "channel-layers",
    "AsyncWebsocketConsumer": "sync-vs-async",
    "async_to_sync": "sync-vs-async",
    "sync_to_async": "sync-vs-async",
    "JsonWebsocketConsumer": "json-consumers",
    "AsyncJsonWebsocketConsumer": "json-consumers",
    "receive_json": "json-consumers",
    "send_json": "json-consumers",
    "decode_json": "json-consumers",
    "ProtocolTypeRouter": "installing",
    "ASGI_APPLICATION": "installing",
    "url_route": "routing",
    "re_path": "routing",
    "DenyConnection": "closing",
    "AuthMiddlewareStack": "authentication",
    "database_sync_to_async": "database-access",
    "CONN_MAX_AGE": "database-access",
    "ChannelNameRouter": "outside-consumers",
    "WebsocketCommunicator": "testing",
    "ChannelsLiveServerTestCase": "testing",
    "__call__": "custom-middleware",
    "disconnect()": "consumer-lifecycle",
}


def test_every_query_is_a_name_its_topic_states():
    catalogue = get_catalogue()
    for name, slug in CENTRAL_NAMES.items():
        topic = catalogue.get(slug)
        assert name.lower() in (topic.title + " " + about_text(topic)).lower(), (name, slug)


@pytest.mark.parametrize(("name", "slug"), CENTRAL_NAMES.items())
def test_central_api_name_finds_its_concept_page_in_the_top_three(name, slug):
    top = [(result.topic.slug, result.mode.key) for result in search(get_catalogue(), name, 8)[:3]]
    assert (slug, "concept") in top, f"{name}: {top}"


def test_group_send_finds_groups_and_broadcast_first():
    first = search(get_catalogue(), "group_send", 8)[0]
    assert (first.topic.title, first.mode.key) == ("Groups and broadcast", "concept")


def test_each_result_names_the_section_that_matches():
    results = [r for r in search(get_catalogue(), "DenyConnection", 8) if r.mode.key != "practice"]
    for result in results[:10]:  # (practice pages are searched by their answer-free text and open at the top)
        assert result.anchor, f"{result.topic.slug}/{result.mode.key} has headings, so a section matches"
        assert f'id="{result.anchor}"' in result.mode.html
        section = next(s for s in result.mode.sections if s.anchor == result.anchor)
        assert "denyconnection" in section.text.lower()


def test_result_links_go_to_the_section_anchor(client):
    response = client.get("/lessons/search/", {"q": "ChannelFull"})
    first = response.context["results"][0]
    assert (first.topic.slug, first.mode.key, first.anchor) == ("channel-layers", "concept", "delivery-rules")
    assert 'href="/lessons/channel-layers/concept/#delivery-rules"' in response.text


def test_results_are_paged_at_the_page_size_edge(client, settings):
    settings.LESSON_SEARCH_PAGE_SIZE = 4
    everything = search(get_catalogue(), "consumer", 8)
    assert len(everything) > 8
    first = client.get("/lessons/search/", {"q": "consumer"})
    assert len(first.context["results"]) == 4
    assert f"Results 1–4 of {len(everything)}" in first.text
    assert 'rel="next" href="?q=consumer&amp;page=2"' in first.text
    assert 'rel="prev"' not in first.text
    second = client.get("/lessons/search/", {"q": "consumer", "page": 2})
    assert [r.mode for r in second.context["results"]] == [r.mode for r in everything[4:8]]
    assert 'rel="prev" href="?q=consumer&amp;page=1"' in second.text
    last_number = -(-len(everything) // 4)
    last = client.get("/lessons/search/", {"q": "consumer", "page": last_number})
    assert 'rel="next"' not in last.text
    assert len(last.context["results"]) == len(everything) - 4 * (last_number - 1)
    assert f"of {len(everything)}" in last.text


def test_exactly_one_page_of_results_has_no_pager(client, settings):
    settings.LESSON_SEARCH_PAGE_SIZE = len(search(get_catalogue(), "ChannelsLiveServerTestCase", 8))
    response = client.get("/lessons/search/", {"q": "ChannelsLiveServerTestCase"})
    assert re.search(r"\d+ results for", response.text)
    assert "Search result pages" not in response.text
    settings.LESSON_SEARCH_PAGE_SIZE -= 1
    assert "Search result pages" in client.get("/lessons/search/", {"q": "ChannelsLiveServerTestCase"}).text


def test_a_page_past_the_end_shows_the_last_page(client, settings):
    settings.LESSON_SEARCH_PAGE_SIZE = 4
    response = client.get("/lessons/search/", {"q": "consumer", "page": 999})
    assert response.status_code == 200
    assert response.context["results"].number == response.context["results"].paginator.num_pages
