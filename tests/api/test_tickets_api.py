"""What the ticket and note endpoints return and write."""

from __future__ import annotations

import json

import pytest
from django.urls import resolve

from tests.api.conftest import (
    INTERNAL_FILE_NAME,
    INTERNAL_NOTE_TEXT,
    PUBLIC_FILE_NAME,
    PUBLIC_NOTE_TEXT,
    World,
    login,
    upload,
)
from tests.factories import ContactFactory, TicketFactory
from tickets.models import Ticket, TicketAttachment, TicketNote, TicketStatus, private_storage

# --- internal notes never reach a client --------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/tickets/", "/api/tickets/{id}/", "/api/tickets/{id}/notes/"]
)
def test_client_responses_never_contain_internal_notes_or_files(world: World, path: str) -> None:
    response = login(world.alice).get(path.format(id=world.acme_ticket.pk))
    assert response.status_code == 200
    text = response.content.decode()
    assert INTERNAL_NOTE_TEXT not in text
    assert INTERNAL_FILE_NAME not in text
    assert '"is_internal":true' not in text.replace(" ", "")


def test_client_sees_public_notes_with_attachment_metadata(world: World) -> None:
    notes = login(world.alice).get(f"/api/tickets/{world.acme_ticket.pk}/notes/").json()
    assert [n["body"] for n in notes] == [PUBLIC_NOTE_TEXT]
    (attachment,) = notes[0]["attachments"]
    stored = TicketAttachment.objects.get(ticket=world.acme_ticket, original_name=PUBLIC_FILE_NAME)
    assert attachment == {
        "id": stored.pk,
        "name": PUBLIC_FILE_NAME,
        "content_type": "image/png",
        "size": 4,
        "is_internal": False,
        "note": notes[0]["id"],
        "created_at": attachment["created_at"],
        "download_url": f"/files/attachments/{stored.pk}/",
    }
    assert resolve(attachment["download_url"]).url_name == "attachment"
    assert notes[0]["author"] == {"id": world.agent.pk, "name": world.agent.full_name}


def test_staff_see_internal_notes_and_files(world: World) -> None:
    client = login(world.agent)
    notes = client.get(f"/api/tickets/{world.acme_ticket.pk}/notes/").json()
    assert [(n["body"], n["is_internal"]) for n in notes] == [
        (PUBLIC_NOTE_TEXT, False),
        (INTERNAL_NOTE_TEXT, True),
    ]
    detail = client.get(f"/api/tickets/{world.acme_ticket.pk}/").json()
    assert {a["name"] for a in detail["attachments"]} == {PUBLIC_FILE_NAME, INTERNAL_FILE_NAME}


def test_ticket_detail_payload(world: World) -> None:
    detail = login(world.alice).get(f"/api/tickets/{world.acme_ticket.pk}/").json()
    assert detail["id"] == detail["number"] == world.acme_ticket.pk
    assert detail["subject"] == "Acme printer on fire"
    assert detail["status"] == "unassigned"
    assert detail["company"] == {"id": world.acme.pk, "name": "Acme"}
    assert detail["contact"] == {"id": world.alice.contact.pk, "name": world.alice.full_name}
    assert detail["assignee"] is None
    assert [a["name"] for a in detail["attachments"]] == [PUBLIC_FILE_NAME]


# --- list ----------------------------------------------------------------------------


def test_list_is_paginated_and_newest_first(world: World) -> None:
    TicketFactory.create_batch(55, contact=world.carol.contact)
    page1 = login(world.agent).get("/api/tickets/").json()
    assert page1["count"] == 58
    assert len(page1["results"]) == 50
    assert page1["next"].endswith("/api/tickets/?page=2")
    ids = [t["id"] for t in page1["results"]]
    assert ids == sorted(ids, reverse=True)
    page2 = login(world.agent).get("/api/tickets/?page=2").json()
    assert len(page2["results"]) == 8
    assert page2["previous"]


def test_list_filters_by_status(world: World) -> None:
    client = login(world.alice)
    closed = client.get("/api/tickets/?status=closed").json()["results"]
    assert [t["id"] for t in closed] == [world.closed_ticket.pk]
    unassigned = client.get("/api/tickets/?status=unassigned").json()["results"]
    assert [t["id"] for t in unassigned] == [world.acme_ticket.pk]


def test_list_refuses_an_unknown_status(world: World) -> None:
    response = login(world.agent).get("/api/tickets/?status=open")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_status"
    assert "unassigned" in body["detail"]
    assert "status" in body["fields"]


def test_page_out_of_range_is_a_json_404(world: World) -> None:
    response = login(world.agent).get("/api/tickets/?page=99")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- create ----------------------------------------------------------------------------


def test_client_create_uses_its_own_company_and_contact(world: World) -> None:
    response = login(world.alice).post(
        "/api/tickets/",
        {
            "subject": "  Laptop is slow ",
            "description": "Since Monday.",
            "company": world.globex.pk,
            "contact": world.carol.contact.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.company, ticket.contact) == (world.acme, world.alice.contact)
    assert ticket.subject == "Laptop is slow"
    assert response.json()["description"] == "Since Monday."


def test_client_create_with_files_multipart(world: World) -> None:
    response = login(world.alice).post(
        "/api/tickets/",
        {"subject": "Error dialog", "files": [upload("error.png"), upload("log.txt")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    names = sorted(a["name"] for a in response.json()["attachments"])
    assert names == ["error.png", "log.txt"]


def test_staff_create_needs_a_company(world: World) -> None:
    before = Ticket.objects.count()
    response = login(world.agent).post("/api/tickets/", {"subject": "Phone"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "required"
    assert "company" in response.json()["fields"]
    assert Ticket.objects.count() == before


def test_staff_create_with_company_and_contact(world: World) -> None:
    response = login(world.agent).post(
        "/api/tickets/",
        {"subject": "Phone", "company": world.acme.pk, "contact": world.bob.contact.pk},
        format="json",
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.company, ticket.contact) == (world.acme, world.bob.contact)


def test_staff_create_without_contact(world: World) -> None:
    response = login(world.agent).post(
        "/api/tickets/", {"subject": "Server room", "company": world.globex.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["contact"] is None


# --- staff actions -------------------------------------------------------------------


def test_assign_close_reopen(world: World) -> None:
    client = login(world.agent)
    url = f"/api/tickets/{world.acme_ticket.pk}"
    assigned = client.post(f"{url}/assign/", {"assignee": world.agent2.pk}, format="json").json()
    assert assigned["status"] == "assigned"
    assert assigned["assignee"] == {"id": world.agent2.pk, "name": world.agent2.full_name}
    closed = client.post(f"{url}/close/").json()
    assert closed["status"] == "closed"
    assert closed["closed_at"]
    reopened = client.post(f"{url}/reopen/").json()
    assert reopened["status"] == "assigned"
    assert reopened["closed_at"] is None
    world.acme_ticket.refresh_from_db()
    assert world.acme_ticket.status == TicketStatus.ASSIGNED


# --- notes ---------------------------------------------------------------------------


def test_client_adds_a_public_note(world: World) -> None:
    response = login(world.alice).post(
        f"/api/tickets/{world.acme_ticket.pk}/notes/", {"body": "Still broken"}, format="json"
    )
    assert response.status_code == 201
    note = response.json()
    assert note["is_internal"] is False
    assert note["author"]["id"] == world.alice.pk
    assert TicketNote.objects.get(pk=note["id"]).body == "Still broken"


def test_client_adds_a_note_with_a_file(world: World) -> None:
    response = login(world.alice).post(
        f"/api/tickets/{world.acme_ticket.pk}/notes/",
        {"body": "Screenshot attached", "files": [upload("shot.png")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    (attachment,) = response.json()["attachments"]
    assert attachment["name"] == "shot.png"
    assert attachment["download_url"] == f"/files/attachments/{attachment['id']}/"


def test_staff_add_an_internal_note_that_clients_never_see(world: World) -> None:
    response = login(world.agent).post(
        f"/api/tickets/{world.acme_ticket.pk}/notes/",
        {"body": "Customer is on the old plan", "is_internal": True},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["is_internal"] is True
    client_view = login(world.alice).get(f"/api/tickets/{world.acme_ticket.pk}/notes/")
    assert "old plan" not in client_view.content.decode()


def test_client_cannot_write_an_internal_note(world: World) -> None:
    before = TicketNote.objects.count()
    response = login(world.alice).post(
        f"/api/tickets/{world.acme_ticket.pk}/notes/",
        {"body": "Sneaky", "is_internal": True},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "internal_not_allowed"
    assert body["detail"] == "Clients cannot write internal notes."
    assert body["fields"] == {"is_internal": ["Clients cannot write internal notes."]}
    assert TicketNote.objects.count() == before


def test_notes_body_is_not_interpreted(world: World) -> None:
    """Bodies are data: stored and returned as written (templates escape them)."""
    body = "<script>alert(1)</script>"
    client = login(world.alice)
    client.post(f"/api/tickets/{world.acme_ticket.pk}/notes/", {"body": body}, format="json")
    notes = client.get(f"/api/tickets/{world.acme_ticket.pk}/notes/")
    assert body in [n["body"] for n in json.loads(notes.content)]


def test_contact_of_another_company_in_staff_create(world: World) -> None:
    stranger = ContactFactory(company=world.globex)
    before = Ticket.objects.count()
    response = login(world.agent).post(
        "/api/tickets/",
        {"subject": "Mixed", "company": world.acme.pk, "contact": stranger.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "contact_company"
    assert Ticket.objects.count() == before


def test_refused_file_writes_neither_note_nor_file(world: World) -> None:
    notes_before = TicketNote.objects.count()
    attachments_before = TicketAttachment.objects.count()
    files_before = sorted(private_storage.listdir(f"tickets/{world.acme_ticket.pk}")[1])
    response = login(world.alice).post(
        f"/api/tickets/{world.acme_ticket.pk}/notes/",
        {"body": "See files", "files": [upload("ok.png"), upload("virus.exe")]},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "attachment_refused"
    assert ".exe" in response.json()["detail"]
    assert TicketNote.objects.count() == notes_before
    assert TicketAttachment.objects.count() == attachments_before
    assert sorted(private_storage.listdir(f"tickets/{world.acme_ticket.pk}")[1]) == files_before
