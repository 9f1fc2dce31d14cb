"""Times in the browser: the same format as the server's pages, in the reader's
own time zone (User.time_zone, handed to the scripts as <body data-time-zone>)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import login, make_ticket
from tests.personas import ALICE

pytestmark = pytest.mark.usefixtures("e2e_db")

FORMATS = """async () => {
  const f = await import("/static/js/chat/format.js");
  return {
    dateTime: f.formatDateTime("2025-12-07T14:02:00Z"),
    date: f.formatDate("2025-09-30T03:39:00Z"),
    time: f.formatTime("2025-09-30T03:39:00Z"),
    midnight: f.formatTime("2025-12-08T05:00:00Z"),
  };
}"""


def test_the_browser_writes_times_like_the_server_in_the_readers_zone(page: Page) -> None:
    alice = ALICE.create(time_zone="America/New_York")
    make_ticket(alice, "Printer prints blank pages")
    login(page, ALICE.email)
    expect(page.locator("body")).to_have_attribute("data-time-zone", "America/New_York")
    assert page.evaluate(FORMATS) == {
        "dateTime": "7 Dec 2025, 09:02",
        # 03:39 UTC on 30 Sep is 23:39 the day before in New York.
        "date": "29 Sep 2025",
        "time": "23:39",
        "midnight": "00:00",
    }


def test_another_zone_another_clock(page: Page) -> None:
    ALICE.create(time_zone="Asia/Kolkata")
    login(page, ALICE.email)
    assert page.evaluate(FORMATS)["dateTime"] == "7 Dec 2025, 19:32"
