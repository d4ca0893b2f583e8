"""Offline packs over HTTP, on both databases: a device's key is issued once to its signed-in owner, the
manifest holds what the member may read (confidential documents only when the meeting allows them),
the check-in tells a device what to delete, and changes made offline are applied once each, the last
change winning."""

from __future__ import annotations

import base64
import io
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from ecabinet.core.types import utcnow
from ecabinet.documents.models import Annotation
from ecabinet.extensions import db
from ecabinet.meetings.models import ItemPosition, MeetingParticipant, MeetingStatus, Position
from ecabinet.offline.models import OfflineChange, OfflineDevice
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, count_rows, signed_in
from tests.helpers import csrf_from
from tests.meetings.conftest import make_outsider


def _json(client, method: str, url: str, token: str, body=None):
    return client.open(url, method=method, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})


@pytest.fixture
def docs(published, cabinet, storage, briefing):
    """Two documents on item 1 of the published meeting; the second is confidential."""
    from ecabinet.documents import service

    sec = actor(cabinet["secretary"])
    plain = service.upload(sec, published.items[0], io.BytesIO(briefing), "to-trinh.pdf")
    secret = service.upload(sec, published.items[0], io.BytesIO(briefing), "mat.pdf")
    service.set_confidential(sec, secret, True)
    db.session.commit()
    return published, plain, secret


def _device(client, token: str) -> tuple[int, bytes]:
    r = _json(client, "POST", "/offline/devices", token, {"label": "Máy tính bảng"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json["device"], base64.b64decode(r.json["key"])


def _check_in(client, device: int, holdings: dict[int, list[int]], versions: dict[int, int] | None = None):
    token = client.get("/offline/token").json["csrf"]
    r = client.post("/offline/check-in", json={"device": device, "holdings": [
        {"meeting": m, "documents": d, "versions": [{"document": i, "version": (versions or {}).get(i, 1)} for i in d]}
        for m, d in holdings.items()]}, headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def test_a_member_gets_a_key_once_and_the_server_keeps_only_its_fingerprint(client, docs, cabinet):
    token = signed_in(client, cabinet["member"].email)
    device_id, key = _device(client, token)
    assert len(key) == 32
    db.session.rollback()
    device = db.session.get(OfflineDevice, device_id)
    assert device.user_id == cabinet["member"].id and device.session_id is not None
    import hashlib

    assert device.key_fingerprint == hashlib.sha256(key).hexdigest()
    assert base64.b64encode(key).decode() not in repr(device.__dict__)
    # A second device is another key.
    assert _device(client, token)[1] != key


@pytest.mark.parametrize("role", ["guest", "liaison", "admin"])
def test_guests_liaisons_and_admins_take_nothing_offline(client, docs, cabinet, role):
    token = signed_in(client, cabinet[role].email)
    assert _json(client, "POST", "/offline/devices", token, {}).status_code == 403


def test_the_manifest_holds_what_the_member_may_read_and_no_confidential_document(client, docs, cabinet):
    meeting, plain, secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    r = client.get(f"/offline/meetings/{meeting.id}/manifest?device={device_id}")
    assert r.status_code == 200
    assert [d["id"] for d in r.json["documents"]] == [plain.id]
    assert r.json["documents"][0]["file"] == f"/documents/{plain.id}/file"
    assert any(a.endswith("/js/offline.js") for a in r.json["assets"])
    assert len(r.json["items"]) == 3 and r.json["expires_at"].endswith("Z")
    # The secretariat allows confidential documents for this meeting: now they go too.
    from ecabinet.offline import service

    service.set_rule(actor(cabinet["secretary"]), meeting, allowed=True, confidential_allowed=True)
    db.session.commit()
    r = client.get(f"/offline/meetings/{meeting.id}/manifest?device={device_id}")
    assert sorted(d["id"] for d in r.json["documents"]) == sorted([plain.id, secret.id])
    # Forbidden for this meeting: refused with the reason.
    service.set_rule(actor(cabinet["secretary"]), meeting, allowed=False, confidential_allowed=False)
    db.session.commit()
    r = client.get(f"/offline/meetings/{meeting.id}/manifest?device={device_id}")
    assert r.status_code == 409 and "không cho phép" in r.json["error"]


def test_another_users_device_is_not_found(client, app, docs, cabinet):
    meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    other = app.test_client()
    other_token = signed_in(other, cabinet["member2"].email)
    assert other.get(f"/offline/meetings/{meeting.id}/manifest?device={device_id}").status_code == 404
    body = {"changes": [{"client_id": "abcdefgh1", "op": "create", "document_id": plain.id,
                         "changed_at": time.time() * 1000, "data": {"kind": "note", "page": 1, "body": "x"}}]}
    assert _json(other, "POST", f"/offline/devices/{device_id}/changes", other_token, body).status_code == 404
    # Checking in with someone else's device tells nothing of it and wipes the browser.
    assert _check_in(other, device_id, {meeting.id: [plain.id]})["wipe"] == "other_user"


def test_check_in_deletes_what_the_member_may_no_longer_hold(client, docs, cabinet):
    meeting, plain, secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    answer = _check_in(client, device_id, {meeting.id: [plain.id]})
    assert answer["wipe"] is None and answer["delete_documents"] == [] and answer["delete_meetings"] == []
    assert str(meeting.id) in answer["expires"] and answer["csrf"]
    # Made confidential: the document goes, the meeting stays.
    from ecabinet.documents import service as documents

    documents.set_confidential(actor(cabinet["secretary"]), plain, True)
    db.session.commit()
    answer = _check_in(client, device_id, {meeting.id: [plain.id]})
    assert answer["delete_documents"] == [plain.id] and answer["delete_meetings"] == []
    documents.set_confidential(actor(cabinet["secretary"]), plain, False)
    db.session.commit()
    assert _check_in(client, device_id, {meeting.id: [plain.id]})["delete_documents"] == []
    # A newer version was uploaded: the device downloads it again.
    plain.current_version = 2
    db.session.commit()
    answer = _check_in(client, device_id, {meeting.id: [plain.id]}, {plain.id: 1})
    assert answer["refresh_documents"] == [plain.id] and answer["delete_documents"] == []
    assert _check_in(client, device_id, {meeting.id: [plain.id]}, {plain.id: 2})["refresh_documents"] == []
    # A document the device holds that it should not (confidential, not allowed): deleted.
    assert _check_in(client, device_id, {meeting.id: [plain.id, secret.id]})["delete_documents"] == [secret.id]
    # Removed from the meeting: the whole meeting goes.
    db.session.execute(delete(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                        MeetingParticipant.user_id == cabinet["member"].id))
    db.session.commit()
    assert _check_in(client, device_id, {meeting.id: [plain.id]})["delete_meetings"] == [meeting.id]


def test_a_pack_past_the_meetings_end_and_margin_is_deleted(client, docs, cabinet):
    meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    meeting.ends_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert _check_in(client, device_id, {meeting.id: [plain.id]})["delete_meetings"] == [meeting.id]
    assert client.get(f"/offline/meetings/{meeting.id}/manifest?device={device_id}").status_code == 409


def test_logout_wipes_the_device_at_its_next_contact(client, docs, cabinet):
    meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert _check_in(client, device_id, {meeting.id: [plain.id]})["wipe"] == "signed_out"
    db.session.rollback()
    assert db.session.get(OfflineDevice, device_id).wiped_at is not None
    # Signing in again does not bring the wiped device back, but the notes it made offline still go in.
    token = signed_in(client, cabinet["member"].email)
    assert _check_in(client, device_id, {meeting.id: [plain.id]})["wipe"] == "signed_out"
    sent = _change(client, token, device_id, client_id="made-before-logout", op="create", document_id=plain.id,
                   data={"kind": "note", "page": 1, "body": "Viết trước khi đăng xuất"})
    assert sent["outcome"] == "applied" and count_rows(Annotation) == 1


@pytest.mark.parametrize("how", ["password_reset", "deactivated", "admin_wipe", "owner_wipe"])
def test_a_reset_a_deactivation_or_a_wipe_empties_the_device(client, app, docs, cabinet, how):
    from ecabinet.accounts import service as accounts
    from ecabinet.offline import service

    meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    admin = actor(cabinet["admin"])
    if how == "password_reset":
        accounts.reset_password(admin, cabinet["member"], "another-Password-2026!")
    elif how == "deactivated":
        accounts.set_active(admin, cabinet["member"], False)
    elif how == "admin_wipe":
        admin_client = app.test_client()
        signed_in(admin_client, cabinet["admin"].email)
        page = admin_client.get(f"/admin/users/{cabinet['member'].id}/devices")
        assert page.status_code == 200 and "Xoá dữ liệu thiết bị này" in page.get_data(as_text=True)
        r = admin_client.post(f"/admin/devices/{device_id}/wipe",
                              data={"csrf_token": csrf_from(page.get_data(as_text=True))})
        assert r.status_code == 302
    else:
        service.request_wipe(actor(cabinet["member"]), db.session.get(OfflineDevice, device_id), "owner")
    db.session.commit()
    answer = _check_in(client, device_id, {meeting.id: [plain.id]})
    assert answer["wipe"] in ("signed_out", "admin", "owner")
    assert "csrf" not in answer


def test_the_devices_pages(client, app, docs, cabinet):
    meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    r = _json(client, "POST", f"/offline/devices/{device_id}/meetings/{meeting.id}", token,
              {"documents": [plain.id], "size": 3 * 1048576})
    assert r.status_code == 200 and r.json["documents"] == [plain.id]
    page = client.get("/account/devices").get_data(as_text=True)
    assert "Máy tính bảng" in page and meeting.title in page and "3.0 MB" in page
    assert client.get(f"/admin/users/{cabinet['member'].id}/devices").status_code == 403
    assert "/account/devices" in client.get("/account").get_data(as_text=True)


def _change(client, token, device_id, **change):
    change.setdefault("changed_at", time.time() * 1000)
    r = _json(client, "POST", f"/offline/devices/{device_id}/changes", token, {"changes": [change]})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json["results"][0]


def test_a_change_sent_twice_is_stored_once(client, docs, cabinet):
    _meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    change = {"client_id": "note-0001-abcdef", "op": "create", "document_id": plain.id,
              "data": {"kind": "note", "page": 1, "body": "Ghi chú trên máy bay"}}
    first = _change(client, token, device_id, **change, changed_at=1_000_000)
    again = _change(client, token, device_id, **change, changed_at=1_000_000)
    assert first["outcome"] == again["outcome"] == "applied"
    assert first["annotation_id"] == again["annotation_id"]
    assert count_rows(Annotation) == 1 and count_rows(OfflineChange) == 1
    # Deleted offline, sent twice: deleted once, and the tombstone answers the resend.
    deletion = {"client_id": "note-0001-delete", "op": "delete", "document_id": plain.id,
                "annotation_id": first["annotation_id"]}
    assert _change(client, token, device_id, **deletion)["outcome"] == "applied"
    assert _change(client, token, device_id, **deletion)["outcome"] == "applied"
    assert count_rows(Annotation) == 0


def test_the_last_change_wins_and_the_loser_is_sent_back(client, docs, cabinet):
    _meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    made = _json(client, "POST", f"/documents/{plain.id}/annotations", token,
                 {"kind": "note", "page": 1, "body": "online"}).json["annotation"]
    edited_online_at = utcnow()
    earlier = (edited_online_at - timedelta(minutes=5)).timestamp() * 1000
    later = (edited_online_at + timedelta(seconds=1)).timestamp() * 1000
    lost = _change(client, token, device_id, client_id="edit-older-0001", op="update", document_id=plain.id,
                   annotation_id=made["id"], changed_at=earlier, data={"kind": "note", "page": 1, "body": "offline"})
    assert lost["outcome"] == "superseded" and lost["annotation"]["body"] == "online"
    won = _change(client, token, device_id, client_id="edit-newer-0001", op="update", document_id=plain.id,
                  annotation_id=made["id"], changed_at=later, data={"kind": "note", "page": 1, "body": "offline"})
    assert won["outcome"] == "applied" and won["annotation"]["body"] == "offline"
    # Deleted online after an offline edit was made: the edit is sent back, not applied.
    edited_before = (utcnow() - timedelta(seconds=1)).timestamp() * 1000
    _json(client, "DELETE", f"/documents/{plain.id}/annotations/{made['id']}", token)
    gone = _change(client, token, device_id, client_id="edit-before-delete", op="update", document_id=plain.id,
                   annotation_id=made["id"], changed_at=edited_before, data={"kind": "note", "page": 1, "body": "x"})
    assert gone["outcome"] == "gone"
    assert count_rows(Annotation) == 0
    # Edited offline after the deletion elsewhere: the later change brings the note back.
    time.sleep(0.05)
    back = _change(client, token, device_id, client_id="edit-after-delete", op="update", document_id=plain.id,
                   annotation_id=made["id"], data={"kind": "note", "page": 1, "body": "late"})
    assert back["outcome"] == "applied"
    assert back["annotation"]["body"] == "late" and count_rows(Annotation) == 1


def test_a_change_on_a_document_no_longer_readable_is_refused_and_reported(client, app, docs, cabinet):
    meeting, plain, _secret = docs
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    db.session.execute(delete(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                        MeetingParticipant.user_id == cabinet["member"].id))
    db.session.commit()
    r = _json(client, "POST", f"/offline/devices/{device_id}/changes", token, {"changes": [
        {"client_id": "refused-0001", "op": "create", "document_id": plain.id, "changed_at": 5,
         "data": {"kind": "note", "page": 1, "body": "x"}}]})
    assert r.status_code == 200
    assert r.json["results"][0]["outcome"] == "refused" and r.json["results"][0]["message"]
    assert db.session.scalars(select(OfflineChange)).all() == []
    # Bad input is a 400 with the reason, never a 500.
    bad = _json(client, "POST", f"/offline/devices/{device_id}/changes", token, {"changes": [{"op": "zap"}]})
    assert bad.status_code == 400


# --- positions set offline --------------------------------------------------------------------------

def _position(client, token, device_id, item_id, value, comment="", client_id="position-0001", changed_at=None):
    return _change(client, token, device_id, client_id=client_id, op="position", item_id=item_id,
                   changed_at=changed_at if changed_at is not None else time.time() * 1000,
                   data={"position": value, "comment": comment})


def _positions(item_id: int) -> list[ItemPosition]:
    db.session.rollback()
    return db.session.scalars(select(ItemPosition).where(ItemPosition.item_id == item_id)).all()


def test_the_pack_and_the_check_in_hold_the_members_positions(client, docs, cabinet):
    from ecabinet.meetings import service as meetings

    meeting, plain, _secret = docs
    item = meeting.items[0]
    meetings.mark_position(actor(cabinet["member"]), item, Position.AGREE, "Đồng ý")
    db.session.commit()
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    items = client.get(f"/offline/meetings/{meeting.id}/manifest?device={device_id}").json["items"]
    assert items[0]["mine"]["position"] == "agree" and items[0]["mine"]["comment"] == "Đồng ý"
    assert items[0]["kind"] == "decision" and items[1]["mine"] is None
    answer = _check_in(client, device_id, {meeting.id: [plain.id]})
    assert answer["positions"][str(meeting.id)][str(item.id)]["position"] == "agree"
    assert answer["positions"][str(meeting.id)][str(meeting.items[1].id)] is None


def test_a_position_set_offline_and_sent_twice_is_stored_once(client, docs, cabinet):
    meeting, _plain, _secret = docs
    item = meeting.items[0]
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    first = _position(client, token, device_id, item.id, "object", "Chưa rõ nguồn kinh phí", changed_at=1_000_000)
    again = _position(client, token, device_id, item.id, "object", "Chưa rõ nguồn kinh phí", changed_at=1_000_000)
    assert first["outcome"] == again["outcome"] == "applied"
    assert first["item_id"] == item.id and first["position"]["position"] == "object"
    rows = _positions(item.id)
    assert [(r.position, r.comment) for r in rows] == [(Position.OBJECT, "Chưa rõ nguồn kinh phí")]
    assert count_rows(OfflineChange) == 1
    # The audit and the meeting's own rules saw it as any position marked.
    from ecabinet.audit.models import AuditEntry

    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "position.mark")).all()


def test_the_later_position_wins_and_the_earlier_comes_back(client, docs, cabinet):
    meeting, _plain, _secret = docs
    item = meeting.items[0]
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    r = client.post(f"/meetings/{meeting.id}/items/{item.id}/position",
                    data={"csrf_token": token, "position": "agree", "comment": "online"})
    assert r.status_code == 302
    marked_online_at = _positions(item.id)[0].updated_at
    earlier = (marked_online_at - timedelta(minutes=5)).timestamp() * 1000
    lost = _position(client, token, device_id, item.id, "speak", "offline", client_id="position-older",
                     changed_at=earlier)
    assert lost["outcome"] == "superseded"
    assert lost["position"]["position"] == "agree" and lost["position"]["comment"] == "online"
    assert [(r.position, r.comment) for r in _positions(item.id)] == [(Position.AGREE, "online")]
    later = (marked_online_at + timedelta(seconds=1)).timestamp() * 1000
    won = _position(client, token, device_id, item.id, "speak", "offline", client_id="position-newer",
                    changed_at=later)
    assert won["outcome"] == "applied" and won["position"]["position"] == "speak"
    assert [(r.position, r.comment) for r in _positions(item.id)] == [(Position.SPEAK, "offline")]


def test_a_position_is_refused_with_the_reason_once_the_meeting_has_started(client, docs, cabinet):
    meeting, _plain, _secret = docs
    item = meeting.items[0]
    token = signed_in(client, cabinet["member"].email)
    device_id, _key = _device(client, token)
    meeting.status = MeetingStatus.IN_SESSION
    db.session.commit()
    refused = _position(client, token, device_id, item.id, "agree")
    assert refused["outcome"] == "refused" and refused["item_id"] == item.id
    assert "bắt đầu" in refused["message"]  # the meetings' own reason: the meeting has started
    assert _positions(item.id) == [] and count_rows(OfflineChange) == 0
    # Not a decision item: refused by the same rule.
    meeting.status = MeetingStatus.PUBLISHED
    db.session.commit()
    report = _position(client, token, device_id, meeting.items[2].id, "agree", client_id="position-report")
    assert report["outcome"] == "refused" and report["message"]


def test_a_position_on_an_item_of_a_meeting_one_is_not_in_is_refused(client, app, docs, cabinet):
    meeting, _plain, _secret = docs
    item = meeting.items[0]
    outsider = make_outsider()
    token = signed_in(client, outsider.email)
    device_id, _key = _device(client, token)
    refused = _position(client, token, device_id, item.id, "object")
    assert refused["outcome"] == "refused" and refused["message"]
    # The secretariat sees the item but marks no position.
    secretary = app.test_client()
    sec_token = signed_in(secretary, cabinet["secretary"].email)
    sec_device, _key = _device(secretary, sec_token)
    assert _position(secretary, sec_token, sec_device, item.id, "agree")["outcome"] == "refused"
    # An item that does not exist tells nothing either, and a bad position is a 400.
    assert _position(client, token, device_id, 2**31 - 1, "agree", client_id="position-none")["outcome"] == "refused"
    bad = _json(client, "POST", f"/offline/devices/{device_id}/changes", token, {"changes": [
        {"client_id": "position-bad1", "op": "position", "item_id": item.id, "changed_at": 5,
         "data": {"position": "abstain"}}]})
    assert bad.status_code == 400
    assert _positions(item.id) == []
