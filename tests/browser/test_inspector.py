"""The inspector page at /__mock__/ui, in a real browser: what the mock saw, and steering it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Request, Route, expect

from mockserver import MockApp
from mockserver.engine.journal import Call
from tests.browser.conftest import Mock
from tests.conftest import APP_ID

SECRET = "browser-secret-key"
DASH = "\N{EN DASH}"  # the pagers write ranges as "1 EN-DASH 50 of N"
RUN_HISTORY_SOURCE = "0b1b2c3d-0000-4000-8000-000000000202"


def populate(mock: Mock) -> dict[str, str]:
    """An application with history, resources made through the API, and two refused requests."""
    mock.control("POST", "/seed", json={"fixtures": "run_history", "appID": APP_ID})
    products = [{"objectID": f"sku-{n:03}", "name": f"Product {n}", "price": n * 1.5} for n in range(45)]
    mock.control("POST", "/seed", json={"data": {"indexes": {"products": products}}, "appID": APP_ID})
    auth = {"type": "algolia", "name": "Browser key", "input": {"appID": APP_ID, "apiKey": SECRET}}
    auth_id = mock.api("POST", "/1/authentications", json=auth).json()["authenticationID"]
    source = {
        "type": "json",
        "name": "Browser feed",
        "authenticationID": auth_id,
        "input": {"url": "https://feeds.example.com/browser.json"},
    }
    source_id = mock.api("POST", "/1/sources", json=source).json()["sourceID"]
    mock.api("GET", "/1/sources")
    bad = {"type": "json", "name": "Broken feed", "input": {"url": 42, "method": "GET"}}
    refused = mock.api("POST", "/1/sources", json=bad)
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith("body.input.url: ")
    missing = mock.api("GET", "/1/sources/not-a-source")
    assert missing.status_code >= 400
    return {"auth": auth_id, "source": source_id}


def open_page(page: Page, mock: Mock, app_id: str = APP_ID) -> None:
    page.goto(mock.page_url(app_id))
    expect(page.locator("#app-title")).to_have_text(app_id)
    expect(page.locator("#jr-range")).not_to_have_text("")


def test_resources_and_rejections_appear_together(page: Page, mock: Mock, screenshots: Path) -> None:
    ids = populate(mock)
    open_page(page, mock)

    apps = page.locator("#app-list li.current")
    expect(apps).to_contain_text(APP_ID)
    expect(apps).to_contain_text("1 authentications")
    auth = page.locator(f"#res-{ids['auth']}")
    expect(auth).to_contain_text("Browser key")
    source = page.locator(f"#res-{ids['source']}")
    source.locator("summary").click()
    # The source's reference is a link that opens the authentication it uses.
    source.get_by_role("link", name="Browser key (authentication)").click()
    expect(auth).to_have_attribute("open", "")
    assert SECRET not in page.content()

    # Search narrows the resources to the ones that match.
    page.get_by_label("Search resources").fill("nightly")
    expect(page.locator(f"#res-{RUN_HISTORY_SOURCE}")).to_be_visible()
    expect(source).to_be_hidden()
    page.get_by_label("Search resources").fill("")

    # Journal: newest first, the refusal shown with its message.
    entries = page.locator("#jr-list details.call")
    expect(entries.first).to_contain_text("GET")
    rejection = page.locator("#jr-list details.call.rejected", has_text="body.input.url")
    expect(rejection).to_have_count(1)

    filters = page.locator("#jr-filters")
    page.get_by_label("Rejected only").check()
    expect(entries).to_have_count(2)
    for n in range(2):
        expect(entries.nth(n)).to_have_class(re.compile(r"\brejected\b"))
    page.get_by_label("Rejected only").uncheck()
    filters.get_by_label("Operation").fill("listSources")
    filters.get_by_label("Operation").press("Enter")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("listSources")
    filters.get_by_label("Operation").fill("")
    filters.get_by_label("Status").fill("400")
    filters.get_by_label("Status").press("Enter")
    expect(entries).to_have_count(1)

    # Expanded, the refusal shows the message and highlights the field it names in the body.
    entries.first.locator("summary").click()
    expect(entries.first.locator(".message")).to_contain_text("body.input.url: 42 is not of type")
    highlighted = entries.first.locator(".json .hl")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_attribute("data-highlight", "input.url")
    expect(highlighted).to_have_text('"url": 42,')

    filters.get_by_label("Status").fill("")
    filters.get_by_label("Status").press("Enter")
    # Still open after the filter changed: the page remembers which entries were expanded.
    expect(rejection).to_have_attribute("open", "")
    page.evaluate("document.querySelectorAll('details.res[open]').forEach(d => { d.open = false; })")
    page.locator("#main").focus()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "inspector.png"), full_page=False)


def test_runs_indexes_and_their_paging(page: Page, mock: Mock) -> None:
    populate(mock)
    open_page(page, mock)
    runs = page.locator("#runs-list .task-runs")
    expect(runs).to_have_count(2)
    failed = page.locator("#runs-list .run.failure")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("the feed answered 503")
    expect(failed).to_contain_text("critical")

    page.get_by_label("Index", exact=True).select_option("products")
    rows = page.locator("#ix-records tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator("#ix-range")).to_have_text(f"1{DASH}20 of 45")
    page.get_by_role("button", name="Next →").click()
    expect(page.locator("#ix-range")).to_have_text(f"21{DASH}40 of 45")
    expect(rows.first).to_contain_text("sku-020")


def test_clock_policy_faults_and_reset_through_the_page(page: Page, mock: Mock) -> None:
    populate(mock)
    mock.control("POST", "/clock", json={"freeze": True, "now": "2026-03-01T10:00:00Z"})
    open_page(page, mock)
    expect(page.locator("#clock-now")).to_have_text("2026-03-01T10:00:00Z")

    page.get_by_label("Advance by (seconds)").fill("3600")
    page.get_by_role("button", name="Advance").click()
    expect(page.locator("#clock-now")).to_have_text("2026-03-01T11:00:00Z")
    assert mock.control("GET", "/clock")["now"] == "2026-03-01T11:00:00Z"

    page.locator("#policy-form").get_by_label("Mode").select_option("deferred")
    page.get_by_label("Outcome").select_option("failure")
    page.get_by_label("Reason", exact=True).fill("nightly feed down")
    page.get_by_role("button", name="Apply policy").click()
    expect(page.locator("#live")).to_contain_text("Run policy: deferred, failure")
    policy = mock.control("GET", "/runs")
    assert (policy["mode"], policy["outcome"], policy["reason"]) == (
        "deferred",
        "failure",
        "nightly feed down",
    )

    faults = page.locator("#fault-form")
    faults.get_by_label("Operation").fill("listSources")
    faults.get_by_label("Status").fill("503")
    faults.get_by_label("Times").fill("2")
    faults.get_by_role("button", name="Add fault").click()
    expect(page.locator("#fault-list")).to_contain_text("listSources → 503")
    assert [(r["operation"], r["status"], r["times"]) for r in mock.control("GET", "/faults")["rules"]] == [
        ("listSources", 503, 2)
    ]
    page.get_by_role("button", name="Clear faults").click()
    expect(page.locator("#fault-list")).to_have_text("None.")
    assert mock.control("GET", "/faults")["rules"] == []

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset this application").click()
    expect(page.locator("#app-list")).to_contain_text("No application has data yet.")
    expect(page.locator("#res-families .family .count").first).to_have_text("0")
    assert mock.control("GET", "/apps") == {"applications": []}
    assert (
        mock.control("GET", "/journal", params={"order": "asc"})["total"] > 0
    )  # one application's reset keeps the journal

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset everything").click()
    expect(page.locator("#jr-list")).to_contain_text("No calls match.")
    assert mock.control("GET", "/journal", params={"order": "asc"})["total"] == 0
    assert mock.control("GET", "/clock")["frozen"] is False


def test_new_calls_appear_without_reloading(page: Page, mock: Mock) -> None:
    populate(mock)
    open_page(page, mock)
    page.evaluate("window.__sameDocument = true")
    mock.api(
        "POST",
        "/1/destinations",
        json={"type": "search", "name": "Arrived live", "input": {"indexName": "x"}},
    )
    expect(page.locator("#jr-list details.call").first).to_contain_text("createDestination")
    expect(page.locator("#res-families")).to_contain_text("Arrived live")
    assert page.evaluate("window.__sameDocument") is True


def test_ten_thousand_journal_entries_are_paged(page: Page, mock: Mock, mock_app: MockApp) -> None:
    for n in range(10_000):
        mock_app.journal.record(
            Call(
                "listSources", "GET", "/1/sources", APP_ID, query={"page": [str(n)]}, status=200, response={}
            )
        )
    mock_app.store.account(APP_ID)
    newest = mock.control("GET", "/journal", params={"order": "desc", "limit": 1})["calls"][0]["seq"]
    open_page(page, mock)
    expect(page.locator("#jr-range")).to_have_text(f"1{DASH}50 of 10,000")
    entries = page.locator("#jr-list details.call")
    expect(entries).to_have_count(50)
    expect(entries.first).to_contain_text(f"#{newest}")
    page.get_by_role("button", name="Older →").click()
    expect(page.locator("#jr-range")).to_have_text(f"51{DASH}100 of 10,000")
    expect(entries.first).to_contain_text(f"#{newest - 50}")
    # New calls arriving while an older page is read do not shift it; the page offers them.
    mock.api("GET", "/1/sources")
    expect(page.get_by_role("button", name="New entries: show the newest")).to_be_visible()
    expect(entries.first).to_contain_text(f"#{newest - 50}")
    page.get_by_role("button", name="New entries: show the newest").click()
    expect(page.locator("#jr-range")).to_have_text(f"1{DASH}50 of 10,001")


def test_first_view_weighs_under_150_kb(page: Page, mock: Mock) -> None:
    populate(mock)
    mock.control("POST", "/seed", json={"fixtures": "catalog", "appID": APP_ID})
    loaded: list[Request] = []
    page.on("requestfinished", lambda request: loaded.append(request))
    open_page(page, mock)
    expect(page.locator("#clock-now")).not_to_have_text("—")
    page.wait_for_load_state("networkidle")
    sizes = {r.url: r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in loaded}
    total = sum(sizes.values())
    assert all(url.startswith(mock.url) for url in sizes), f"the page fetched from elsewhere: {list(sizes)}"
    assert total < 150 * 1024, f"first view is {total} bytes: {json.dumps(sizes, indent=1)}"


def test_keyboard_and_a_narrow_window(page: Page, mock: Mock, screenshots: Path) -> None:
    populate(mock)
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, mock)
    page.locator("body").press("/")
    expect(page.get_by_label("Search resources")).to_be_focused()
    page.get_by_label("Search resources").press("Escape")
    page.locator("#main").focus()
    page.keyboard.press("j")
    first = page.locator("#jr-list summary").first
    expect(first).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator("#jr-list summary").nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#jr-list details.call").nth(1)).to_have_attribute("open", "")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways at 390 px: {width}"
    # Every control the page offers has a name a screen reader can say.
    unnamed = page.evaluate(
        """[...document.querySelectorAll('input, select, button')]
            .filter(el => !el.closest('[hidden]'))
            .filter(el => !(el.labels && el.labels.length) && !el.textContent.trim())
            .filter(el => !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)"""
    )
    assert unnamed == []
    page.screenshot(path=str(screenshots / "inspector-narrow.png"))


def test_credentials_are_sent_and_a_refusal_is_explained(page: Page, mock: Mock) -> None:
    populate(mock)
    open_page(page, mock)
    page.get_by_role("button", name="Credentials").click()
    page.get_by_label("Application ID").fill(APP_ID)
    page.get_by_label("API key").fill("inspector-key")
    sent: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.headers) if "/__mock__/apps" in r.url else None)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#live")).to_contain_text("Credentials saved")
    page.wait_for_load_state("networkidle")
    assert sent and sent[-1]["x-algolia-api-key"] == "inspector-key"
    assert sent[-1]["x-algolia-application-id"] == APP_ID

    def refuse(route: Route) -> None:
        route.fulfill(status=403, json={"message": "Invalid credentials", "status": 403})

    page.route("**/__mock__/apps", refuse)
    page.reload()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("refused GET /__mock__/apps (403): Invalid credentials")
    expect(alert).to_contain_text("under Credentials")
    expect(page.get_by_label("Application ID")).to_be_visible()
    expect(page.get_by_label("Application ID")).to_have_value(APP_ID)  # kept for this tab


def test_the_page_and_its_assets_are_served_from_the_package(mock: Mock) -> None:
    page = mock.http.get("/__mock__/ui")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    links = re.findall(r'"(ui/ui\.(?:css|js)\?v=[0-9a-f]+)"', page.text)
    assert len(links) == 2
    types: dict[str, Any] = {}
    for link in links:
        asset = mock.http.get("/__mock__/" + link)
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        types[link.split("?")[0]] = asset.headers["content-type"]
        again = mock.http.get("/__mock__/" + link, headers={"if-none-match": asset.headers["etag"]})
        assert again.status_code == 304
    assert types == {"ui/ui.css": "text/css; charset=utf-8", "ui/ui.js": "text/javascript; charset=utf-8"}
    stale = mock.http.get("/__mock__/ui/ui.js?v=old")
    assert stale.headers["cache-control"] == "no-cache"
    missing = mock.http.get("/__mock__/ui/secrets.txt")
    assert missing.status_code == 404
    assert "No inspector asset" in missing.json()["message"]
    assert "http://" not in page.text and "https://" not in page.text  # nothing fetched from elsewhere


def test_without_an_application_the_page_opens_on_the_first_that_has_data(page: Page, mock: Mock) -> None:
    page.goto(mock.url + "/__mock__/ui")
    expect(page.locator("#app-list")).to_contain_text("No application has data yet.")
    expect(page.locator("#app-title")).to_have_text("none yet")
    mock.api("POST", "/1/destinations", json={"type": "search", "name": "First", "input": {"indexName": "x"}})
    expect(page.locator("#app-title")).to_have_text(APP_ID)
    assert page.url.endswith(f"/__mock__/ui?appID={APP_ID}")
    expect(page.locator("#res-families")).to_contain_text("First")


def test_search_api_calls_and_the_records_they_wrote_appear(page: Page, mock: Mock) -> None:
    """The inspector covers the Search API as the Ingestion API: its calls in the journal (filtered
    by operation), its refusals explained, the records it wrote in the index view."""
    saved = mock.api("POST", "/1/indexes/shelf", json={"objectID": "book-1", "title": "Dune"})
    assert saved.status_code == 201, saved.text
    found = mock.api("POST", "/1/indexes/shelf/query", json={"query": "dune"})
    assert found.status_code == 200 and found.json()["nbHits"] == 1, found.text
    refused = mock.api("POST", "/1/indexes/shelf/query", json={"hitsPerPage": "many"})
    assert refused.status_code == 400, refused.text
    open_page(page, mock)

    calls = page.locator("#jr-list details.call")
    expect(calls.first).to_contain_text("searchSingleIndex")
    expect(page.locator("#jr-list")).to_contain_text("saveObject")
    page.locator("#jr-op").fill("searchSingleIndex")
    page.locator("#jr-op").press("Enter")
    expect(calls).to_have_count(2)
    expect(calls.first).to_contain_text("400")

    page.get_by_label("Index", exact=True).select_option("shelf")
    rows = page.locator("#ix-records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Dune")
