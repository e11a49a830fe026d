"""Access groups, validity and visitors through the HTTP API (the same store and decision path
as the CLI and the keypads), and in the notice, the export and the audit log."""

from __future__ import annotations

import time

from conftest_api import Env

pytest_plugins = ["conftest_mqtt", "conftest_rtsp", "conftest_api"]

PIN = "482913"


def test_groups_are_created_changed_and_removed_and_the_notice_lists_their_doors(
    env: Env,
) -> None:
    before = env.notice
    reply = env.api.post("/api/groups", {"name": "Building 3", "doors": ["lobby"]})
    assert reply.status == 201, reply
    group = reply.data
    assert (group["name"], group["doors"], group["every_door"], group["members"]) == (
        "Building 3",
        ["lobby"],
        False,
        0,
    )
    listed = env.api.get("/api/groups").data["groups"]
    assert [g["name"] for g in listed] == ["All doors", "Building 3"]
    # R1: the notice says which doors each group opens (a new version; the scope is the same).
    notice = env.api.get("/api/notice").data
    assert notice["version"] != before
    assert "Building 3 — Lobby" in notice["text"]
    zh = env.api.get("/api/notice?lang=zh-Hans").data["text"]
    assert "各通行组可开的门" in zh and "Building 3\uff1aLobby" in zh

    unknown = env.api.post("/api/groups", {"name": "Gate", "doors": ["no_such_door"]})
    assert unknown.status == 400 and "no_such_door" in unknown.error
    twice = env.api.post("/api/groups", {"name": "Building 3"})
    assert twice.status == 400 and "already" in twice.error
    renamed = env.api.patch(f"/api/groups/{group['id']}", {"name": "Unit 3"})
    assert renamed.status == 200 and renamed.data["name"] == "Unit 3"
    assert env.api.delete(f"/api/groups/{group['id']}").data == {"removed": group["id"]}
    assert env.api.delete(f"/api/groups/{group['id']}").status == 404
    kinds = env.audit_kinds()
    assert kinds.count("group_created") == 1 and "group_changed" in kinds
    assert "group_removed" in kinds


def test_a_person_in_no_group_opens_nothing_and_their_groups_are_theirs_to_see(env: Env) -> None:
    person_id = env.person("Li Wei")
    assert env.api.get(f"/api/people/{person_id}").data["groups"] == ["all-doors"]
    env.api.post(f"/api/people/{person_id}/credentials", {"kind": "pin", "value": PIN})
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "match"
    reply = env.api.request("PUT", f"/api/people/{person_id}/groups", {"groups": []})
    assert reply.status == 200 and reply.data["groups"] == []
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "not_allowed"
    missing = env.api.request("PUT", f"/api/people/{person_id}/groups", {"groups": ["nope"]})
    assert missing.status == 404
    # R11: the export holds the person's groups; the audit log the change.
    assert env.api.get(f"/api/people/{person_id}/export").data["groups"] == []
    assert "groups_changed" in env.audit_kinds()


def test_validity_of_a_person_and_of_a_credential_is_set_and_checked(env: Env) -> None:
    person_id = env.person("Wang Fang")
    card = env.api.post(
        f"/api/people/{person_id}/credentials",
        {"kind": "pin", "value": PIN, "max_uses": 1, "valid_until": "2099-01-01"},
    ).data
    assert (card["max_uses"], card["uses"]) == (1, 0)
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "match"
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "used_up"
    path = f"/api/people/{person_id}/credentials/{card['id']}/validity"
    again = env.api.request("PUT", path, {"max_uses": 3})
    assert again.status == 200 and (again.data["max_uses"], again.data["uses"]) == (3, 1)
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "match"
    # The person's own limits apply to every credential they hold.
    person = env.api.request(
        "PUT", f"/api/people/{person_id}/validity", {"valid_until": "2020-01-01T00:00+08:00"}
    )
    assert person.status == 200 and person.data["valid_until"] == 1577808000.0
    assert env.engine.present_credential("lobby", "pin", PIN)["reason"] == "expired"
    wrong = env.api.request(
        "PUT",
        f"/api/people/{person_id}/validity",
        {"valid_from": "2027-01-02", "valid_until": "2027-01-01"},
    )
    assert wrong.status == 400 and "after valid_from" in wrong.error
    bad_hours = env.api.request(
        "PUT",
        f"/api/people/{person_id}/validity",
        {"schedule": [{"days": ["tue"], "start": "8am", "end": "12:00"}]},
    )
    assert bad_hours.status == 400 and "HH:MM" in bad_hours.error
    assert "validity_changed" in env.audit_kinds()


def test_a_visitor_gets_a_generated_code_that_opens_their_doors_until_it_ends(env: Env) -> None:
    reply = env.api.post(
        "/api/visitors",
        {
            "name": "Courier Zhang",
            "groups": ["all-doors"],
            "valid_until": time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 3600)),
            "max_uses": 1,
            "label": "parcel for Li Wei",
        },
    )
    assert reply.status == 201, reply
    visitor = reply.data
    code = visitor["code"]
    assert code.isdigit() and len(code) == 8
    assert code in visitor["message"]["en"] and code in visitor["message"]["zh-Hans"]
    assert "Lobby" in visitor["message"]["en"] and "1 use" in visitor["message"]["en"]
    person = visitor["person"]
    assert person["visitor"] is True and person["templates"] == 0
    assert person["consent"] == {"status": "none"}
    # Never stored in clear, never shown again.
    assert code not in str(env.api.get(f"/api/people/{person['id']}").data)
    assert code not in str(env.api.get("/api/audit?limit=1000").data)
    assert env.engine.present_credential("lobby", "pin", code)["reason"] == "match"
    assert env.engine.present_credential("lobby", "pin", code)["reason"] == "used_up"
    # A visitor holds only codes: no consent to a face (so no face either).
    consent = env.api.post(
        f"/api/people/{person['id']}/consent",
        {
            "agree": True,
            "notice_version": env.notice,
            "signer": "Courier Zhang",
            "method": "signed_name",
        },
    )
    assert consent.status == 400 and "visitor" in consent.error
    # A visitor's code must end.
    endless = env.api.post("/api/visitors", {"name": "Guest", "groups": ["all-doors"]})
    assert endless.status == 400 and "valid_until" in endless.error
    assert [p["name"] for p in env.api.get("/api/people").data["people"]] == ["Courier Zhang"]
