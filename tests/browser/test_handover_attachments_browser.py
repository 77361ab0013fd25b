"""Release handover and attachments in Chromium, axe-core on every page:
- the POM ticks a handover task on the case's lifecycle page; the COM sees it ticked, by whom;
- a team member uploads a PDF on a record page (GOV.UK file upload) and downloads it, named with
  its classification; a user with no relation to the case gets 404 for the file and the record."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case, TeamMembership
from shareplatform.records.services import NewRecord, post_record
from tests.browser.test_web_journey import accessible, sign_in
from tests.browser.test_web_journey import browser_page as browser_page
from tests.factories import ctx_for

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in**")


def custody_case(s, pom: str, com: str) -> Case:  # type: ignore[no-untyped-def]
    """A case in custody on which both hold current memberships (pre-release handover)."""
    ids = {u.username: u.id for u in s.scalars(select(User).where(User.username.in_([pom, com])))}
    for case in s.scalars(select(Case).where(Case.phase == "CUSTODY").order_by(Case.reference)):
        members = {
            m.user_id
            for m in s.scalars(
                select(TeamMembership).where(
                    TeamMembership.case_id == case.id, TeamMembership.end_date.is_(None)
                )
            )
        }
        if {ids[pom], ids[com]} <= members:
            return case
    raise AssertionError("the demo has no such case")


def test_pom_ticks_a_handover_task_and_the_com_sees_it(browser_page, seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    release = date.today() + timedelta(weeks=6)
    with seeded.transaction() as s:
        case = custody_case(s, "pom.parker", "com.cole")
        case.release_date = release
        case_id = str(case.id)

    sign_in(page, url, seeded, "pom.parker")
    page.goto(f"{url}/cases/{case_id}/lifecycle")
    accessible(page)
    row = page.locator('tr[data-task="APPROVED_PREMISES"]')
    assert "To do" in row.inner_text() or "Overdue" in row.inner_text()
    row.get_by_role("button", name="Mark done").click()
    page.wait_for_url("**/lifecycle?saved=1*")
    accessible(page)
    assert "Done by Priya Parker" in page.locator('tr[data-task="APPROVED_PREMISES"]').inner_text()
    sign_out(page)

    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id}/lifecycle")
    accessible(page)
    ticked = page.locator('tr[data-task="APPROVED_PREMISES"]').inner_text()
    assert "Done by Priya Parker (Prison offender manager)" in ticked
    assert page.locator('tr[data-task="APPROVED_PREMISES"]').get_by_role("button").count() == 1
    assert not [e for e in errors if "favicon" not in e and "404" not in e]


def test_attachment_upload_download_and_refusal(browser_page, seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    with seeded.transaction() as s:
        case = custody_case(s, "pom.parker", "com.cole")
        rec = post_record(
            ctx_for(seeded, s, "com.cole"),
            case.id,
            NewRecord(
                "CONTACT_OFFICE",
                date.today() - timedelta(days=1),
                "OFFICIAL-SENSITIVE",
                [],
                "Licence briefing",
                "Went through the draft licence.",
            ),
        )
        record_id = str(rec.id)
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(PDF)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")

    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/records/{record_id}")
    accessible(page)
    page.set_input_files("#file", str(fake))  # content is not a PDF: refused, clearly
    page.get_by_role("button", name="Upload the file").click()
    page.get_by_role("alert").get_by_text("must be a PDF, PNG, JPEG, DOCX or XLSX").wait_for()
    accessible(page)
    page.set_input_files("#file", str(pdf))
    page.get_by_role("button", name="Upload the file").click()
    page.wait_for_url("**/records/*?attached=1*")
    accessible(page)
    link = page.locator("#attachment-list").get_by_role("link", name="licence.pdf")
    with page.expect_download() as got:
        link.click()
    download = got.value
    assert download.suggested_filename == "OFFICIAL-SENSITIVE_licence.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == PDF
    href = link.get_attribute("href")
    response = page.request.get(url + href)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment")
    sign_out(page)

    sign_in(page, url, seeded, "pom.parker")  # another member of the case team
    page.goto(f"{url}/records/{record_id}")
    with page.expect_download() as got:
        page.locator("#attachment-list").get_by_role("link", name="licence.pdf").click()
    assert got.value.suggested_filename == "OFFICIAL-SENSITIVE_licence.pdf"
    sign_out(page)

    sign_in(page, url, seeded, "com.evans")  # not on this case
    assert page.request.get(url + href).status == 404
    unknown = "/attachments/00000000-0000-0000-0000-000000000000/download"
    assert page.request.get(url + unknown).status == 404
    response = page.goto(f"{url}/records/{record_id}")
    assert response is not None and response.status == 404
