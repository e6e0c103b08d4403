"""The accessibility statement (issue 22.4): GOV.UK's model in the page's language, with the date the pages were last
tested, linked from the footer of every participant's page (tests/e2e/test_accessibility.py checks it in a browser
on every state)."""

from datetime import date

import pytest
from django.test import Client

from tests.meetings.test_public_pages import page_url

pytestmark = pytest.mark.django_db

STATEMENT = "/join/accessibility"


def test_the_statement_says_what_gov_uk_asks_with_the_date_last_tested(client: Client, settings) -> None:
    settings.ACCESSIBILITY_TESTED_ON = date(2027, 1, 15)
    response = client.get(STATEMENT)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    for heading in (
        "<h1>Accessibility statement</h1>",
        "<h2>How accessible this service is</h2>",
        "<h2>Reporting accessibility problems with this service</h2>",
        "<h2>Enforcement procedure</h2>",
        "<h3>Compliance status</h3>",
    ):
        assert heading in html
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2 AA" in html
    assert "The service was last tested on 15 January 2027." in html


def test_the_statement_is_in_welsh_for_a_welsh_browser(settings) -> None:
    settings.ACCESSIBILITY_TESTED_ON = date(2027, 1, 15)
    response = Client(headers={"Accept-Language": "cy"}).get(STATEMENT)
    html = response.content.decode()
    assert response["Content-Language"] == "cy"
    assert '<html lang="cy">' in html
    assert "<h1>Datganiad hygyrchedd</h1>" in html
    assert "Profwyd y gwasanaeth ddiwethaf ar 15 Ionawr 2027." in html
    assert "Accessibility statement" not in html


def test_every_participant_page_links_the_statement_from_its_footer(client: Client, appointment) -> None:
    link = f'<a href="{STATEMENT}">Accessibility statement</a>'
    for url in (page_url(appointment), "/join/" + "x" * 30, STATEMENT):
        html = client.get(url).content.decode()
        footer = html[html.index("<footer") : html.index("</footer>")]
        assert link in footer, url
