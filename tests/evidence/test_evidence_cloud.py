"""Cloud and identity readers on the real samples of shared/data/today: counts, the first
event's time, address and persona, and rejections by reason, each worked out from the raw
fields of the files (see shared/data/SOURCES.md for what each holds)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipcatch.evidence import ReadOptions, ingest
from slipcatch.evidence._ingest import FORMATS
from slipcatch.model import Event, EvidenceFile

TODAY = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "today").resolve()


def _read(
    path: Path, options: ReadOptions | None = None
) -> tuple[EvidenceFile, list[Event], Counter[str]]:
    result = ingest(path, options or ReadOptions())
    (account,) = result.files
    assert account.records == account.events + account.rejected + account.duplicates
    events = sorted(result.events, key=lambda e: int(e.evidence.locator.split()[1]))
    return account, events, Counter(r.reason for r in result.rejections)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_formats_are_registered_once() -> None:
    names = [f.NAME for f in FORMATS]
    for name in ("cloudtrail", "entra", "m365", "okta", "gworkspace", "github"):
        assert names.count(name) == 1
    assert names[-1] == "table"  # the generic reader stays last in tie-break order


# -- CloudTrail ---------------------------------------------------------------------------

CT = TODAY / "aws-cloudtrail"
CT_LINES = CT / "otrf-ec2-proxy-s3-exfiltration-2020-09-14.logstash.jsonl"


def test_cloudtrail_logstash_lines() -> None:
    account, events, reasons = _read(CT_LINES)
    # 103 lines: 98 with sourceIPAddress 1.2.3.4, 5 with "ec2.amazonaws.com" (AWSService).
    assert (account.format, account.records, account.events) == ("cloudtrail", 103, 98)
    assert reasons == {"service-address": 5}
    first = events[0]  # line 1: DescribeInstanceTypes by IAM user pedro
    assert first.time == _utc(2020, 9, 14, 0, 44, 23)  # "@timestamp" (Logstash replaced eventTime)
    assert first.src_ip == "1.2.3.4"
    assert first.persona == "arn:aws:iam::123456789123:user/pedro"
    assert first.channel == "cloudtrail"
    assert first.attributes["record_id"] == "fd4f1042-c7f6-4107-a6ee-d841d92596e7"
    assert first.attributes["event_name"] == "DescribeInstanceTypes"
    assert first.attributes["identity_type"] == "IAMUser"
    personas = Counter(e.persona for e in events)
    # 87 records of IAMUser pedro, 11 of the WAF role's assumed-role session.
    assert personas == {
        "arn:aws:iam::123456789123:user/pedro": 87,
        "arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/"
        "i-0317f6c6b66ae9c40": 11,
    }


def test_cloudtrail_service_rejection_names_the_service() -> None:
    result = ingest(CT_LINES, ReadOptions())
    details = {r.detail for r in result.rejections}
    assert details == {"ec2.amazonaws.com acted for the account"}


def test_cloudtrail_console_logins_are_one_event_and_duplicates() -> None:
    # Six byte-identical ConsoleLogin failures (the CrowdSec authors' test copies).
    account, events, reasons = _read(CT / "crowdsec-aws-console-bf.jsonl")
    assert (account.records, account.events, account.duplicates, account.rejected) == (6, 1, 5, 0)
    assert not reasons
    (e,) = events
    assert (e.time, e.src_ip, e.persona) == (_utc(2023, 4, 11, 15, 24), "1.2.3.4", "<userName>")
    assert e.attributes["console_login"] == "Failure"
    assert e.attributes["error_message"] == "Failed authentication"


def test_cloudtrail_records_wrapper_gzip_gives_the_same_events(tmp_path: Path) -> None:
    # As CloudTrail delivers to S3: {"Records": [...]} on one line, gzip-compressed. The line is
    # far over the 64 KiB line limit; the document is streamed record by record.
    rows = [json.loads(line) for line in CT_LINES.read_text().splitlines()]
    p = tmp_path / "123456789123_CloudTrail_us-east-1_20200914T0045Z_x.json.gz"
    p.write_bytes(gzip.compress(json.dumps({"Records": rows}).encode()))
    assert len(json.dumps({"Records": rows})) > 64 * 1024
    account, events, reasons = _read(p)
    assert (account.format, account.records, account.events) == ("cloudtrail+gzip", 103, 98)
    assert reasons == {"service-address": 5}
    assert events[0].evidence.locator == "record 1"
    plain = ingest(CT_LINES, ReadOptions()).events
    assert {e.id for e in events} == {e.id for e in plain}  # same record, same event id


def test_cloudtrail_event_history_shape(tmp_path: Path) -> None:
    # `aws cloudtrail lookup-events` output: each record is JSON text in CloudTrailEvent.
    rows = [json.loads(line) for line in CT_LINES.read_text().splitlines()[:3]]
    doc = {"Events": [{"EventId": r["eventID"], "EventName": r["eventName"],
                       "CloudTrailEvent": json.dumps(r)} for r in rows]}  # fmt: skip
    p = tmp_path / "lookup.json"
    p.write_text(json.dumps(doc, indent=2))
    account, events, _ = _read(p)
    assert (account.format, account.events) == ("cloudtrail", 3)
    assert events[0].attributes["record_id"] == "fd4f1042-c7f6-4107-a6ee-d841d92596e7"


# -- Entra ID -----------------------------------------------------------------------------


def test_entra_signin_event_hub_record() -> None:
    account, (e,), reasons = _read(TODAY / "entra-signin" / "beats-azure-signinlogs-eventhub.jsonl")
    assert (account.format, account.records, account.events) == ("entra", 1, 1)
    assert not reasons
    # properties.createdDateTime 2019-10-18T09:45:48.0729893+00:00 (7 digits: read to the µs)
    assert e.time == _utc(2019, 10, 18, 9, 45, 48, 72989)
    assert (e.src_ip, e.persona, e.channel) == ("81.171.241.231", "test@elastic.co", "signin")
    assert e.attributes["result"] == "50140"
    assert e.attributes["app"] == "Office 365"
    assert e.attributes["record_id"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"


def test_entra_signin_ipv6() -> None:
    _, (e,), _ = _read(TODAY / "entra-signin" / "beats-azure-signinlogs-eventhub-ipv6.jsonl")
    assert e.src_ip == "2603:c022:c000:301:41db:be0e:16ba:b4d7"
    assert e.persona == "user@company.tld"
    assert e.time == _utc(2022, 12, 28, 13, 8, 1, 152918)
    assert (e.attributes["app"], e.attributes["result"]) == ("Windows Sign In", "0")
    assert e.attributes["record_id"] == "d0d7fbc7-c57d-4081-8946-137c539c16cd"


def test_entra_audit_pretty_printed_record_by_an_app() -> None:
    # One object over 49 lines, initiated by the Device Registration Service: no address.
    path = TODAY / "entra-audit" / "beats-azure-auditlogs-pretty.json"
    result = ingest(path, ReadOptions())
    (account,) = result.files
    assert (account.format, account.records, account.rejected) == ("entra", 1, 1)
    (r,) = result.rejections
    assert (r.reason, r.locator) == ("missing-address", "record 1")
    assert r.detail == "initiated by application Device Registration Service"


def test_entra_audit_sentinel_rows_have_no_address() -> None:
    # Four Sentinel AuditLogs rows (two with Type overwritten by the target's type, Application
    # and ServicePrincipal); InitiatedBy (JSON text) has ipAddress null in each.
    account, _, reasons = _read(TODAY / "entra-audit" / "otrf-goldensaml-AADAuditEvents.json")
    assert (account.format, account.records, account.events) == ("entra", 4, 0)
    assert reasons == {"missing-address": 4}


def test_entra_graph_page_and_sentinel_signin(tmp_path: Path) -> None:
    # The Graph page shape and the Log Analytics column names, built from the Event Hub record.
    raw = json.loads((TODAY / "entra-signin" / "beats-azure-signinlogs-eventhub.jsonl").read_text())
    graph = tmp_path / "signins.json"
    graph.write_text(json.dumps({"@odata.context": "x", "value": [raw["properties"]]}, indent=1))
    la = tmp_path / "SigninLogs.jsonl"
    p = raw["properties"]
    la.write_text(json.dumps({"TimeGenerated": p["createdDateTime"], "IPAddress": p["ipAddress"],
                              "UserPrincipalName": p["userPrincipalName"], "Type": "SigninLogs",
                              "ResultType": "50140", "Id": p["id"]}) + "\n")  # fmt: skip
    for path in (graph, la):
        account, (e,), _ = _read(path)
        assert account.format == "entra"
        assert (e.src_ip, e.persona, e.channel) == ("81.171.241.231", "test@elastic.co", "signin")
        assert e.attributes["result"] == "50140"


# -- Microsoft 365 ------------------------------------------------------------------------


def test_m365_sentinel_csv_with_multiline_cells() -> None:
    path = TODAY / "m365-audit" / "msticpy-demo-exchange-OfficeActivity-rows1001-1100.csv"
    account, events, reasons = _read(path)
    # 100 records over 2857 lines (Parameters cells hold JSON with line breaks); 28 have a
    # ClientIP (with its port), 72 have none.
    assert (account.format, account.records, account.events) == ("m365", 100, 28)
    assert reasons == {"missing-address": 72}
    first = events[0]  # file line 1598
    assert first.evidence.locator == "line 1598"
    assert first.time == _utc(2020, 5, 19, 13, 39, 48)
    assert (first.src_ip, first.attributes["src_port"]) == ("52.229.51.154", "3633")
    assert first.persona == "NT AUTHORITY\\SYSTEM (w3wp)"
    assert first.attributes["operation"] == "Set-ConditionalAccessPolicy"
    assert Counter(e.src_ip for e in events) == {"40.114.117.193": 16, "52.229.51.154": 12}


def test_m365_sentinel_json_row() -> None:
    _, (e,), _ = _read(TODAY / "m365-audit" / "otrf-goldensaml-OfficeActivity.json")
    assert (e.time, e.src_ip) == (_utc(2021, 8, 2, 13, 32, 7), "1.2.3.4")  # Client_IPAddress
    assert (e.persona, e.channel) == ("pgustavo@simulandlabs.com", "m365")
    assert e.attributes["operation"] == "MailItemsAccessed"
    assert e.attributes["record_id"] == "699e0b10-1c53-403e-976f-ce0847a92b44"  # OfficeId


def test_m365_unified_audit_log_json() -> None:
    # Three Exchange admin records without ClientIP, one UserLoggedIn with ClientIP 0.0.0.0.
    account, _, reasons = _read(TODAY / "m365-audit" / "plaso-microsoft-audit-log.jsonl")
    assert (account.format, account.records, account.events) == ("m365", 4, 0)
    assert reasons == {"missing-address": 3, "unspecified-address": 1}


def test_m365_purview_csv_audit_data(tmp_path: Path) -> None:
    # The Purview export: AuditData holds the record's JSON (here the plaso UserLoggedIn record,
    # with a public address in place of 0.0.0.0).
    lines = (TODAY / "m365-audit" / "plaso-microsoft-audit-log.jsonl").read_text().splitlines()
    rec = json.loads(lines[3])
    rec["ClientIP"] = "[2603:1036:301:402::5]:51902"
    cell = json.dumps(rec).replace('"', '""')
    p = tmp_path / "AuditLog.csv"
    p.write_text(f'CreationDate,UserIds,Operations,AuditData\n2022-05-08T15:13:41.0000000Z,'
                 f'piet@sst5f.onmicrosoft.com,UserLoggedIn,"{cell}"\n')  # fmt: skip
    account, (e,), _ = _read(p)
    assert account.format == "m365"
    assert (e.src_ip, e.attributes["src_port"]) == ("2603:1036:301:402::5", "51902")
    assert e.time == _utc(2022, 5, 8, 15, 13, 41)  # CreationTime, no zone: UTC
    assert e.persona == "piet@sst5f.onmicrosoft.com"
    assert e.attributes["record_id"] == "0a454a7b-fbac-4329-a20c-72bad3bc5000"


# -- Okta, Google Workspace ---------------------------------------------------------------


def test_okta_system_log() -> None:
    account, events, reasons = _read(TODAY / "okta" / "beats-okta-system-lines1-4.jsonl")
    assert (account.format, account.records, account.events, account.rejected) == ("okta", 4, 4, 0)
    assert not reasons
    first = events[0]
    assert first.time == _utc(2020, 2, 14, 22, 18, 51, 843000)
    assert (first.src_ip, first.persona, first.channel) == (
        "67.43.156.12", "xxxxxx@elastic.co", "okta")  # fmt: skip
    assert first.attributes["event_type"] == "user.session.end"
    assert first.attributes["outcome"] == "SUCCESS"
    assert first.attributes["ip_chain"] == "67.43.156.12"
    assert first.attributes["record_id"] == "faf7398a-4f77-11ea-97fb-5925e98228bd"


def test_google_workspace_login_activities() -> None:
    path = TODAY / "google-workspace" / "integrations-gws-login-lines1-9.jsonl"
    account, events, reasons = _read(path)
    # Nine activities with the same time, address, actor and uniqueQualifier but different
    # event names: nine events (the id is kept as an attribute, not used to merge records).
    assert (account.format, account.records, account.events) == ("gworkspace", 9, 9)
    assert not reasons
    assert len({e.id for e in events}) == 9
    first = events[0]
    assert (first.time, first.src_ip) == (_utc(2020, 10, 2, 15), "67.43.156.13")
    assert (first.persona, first.channel) == ("foo@bar.com", "google-workspace")
    assert first.attributes["event_name"] == "account_disabled_password_leak"
    assert first.attributes["application"] == "login"


# -- GitHub (no real export with addresses is public: SOURCES.md, "Not found") ------------


def test_github_audit_log_shape(tmp_path: Path) -> None:
    # Entries in the shape of the REST API documentation's example, one with actor_ip.
    entries = [
        {"@timestamp": 1606929874512, "action": "team.add_member", "actor": "octocat",
         "created_at": 1606929874512, "_document_id": "xJJFlFOhQ6b-5vaAFy9Rjw",
         "org": "octo-corp", "team": "octo-corp/example-team", "user": "monalisa",
         "actor_ip": "81.2.69.142", "actor_location": {"country_code": "GB"}},
        {"@timestamp": 1606507117008, "action": "org.create", "actor": "octocat",
         "created_at": 1606507117008, "_document_id": "Vqvg6kZ4MYqwWRKFDzlMoQ",
         "org": "octocat-test-org"},
    ]  # fmt: skip
    p = tmp_path / "export.json"
    p.write_text(json.dumps(entries, indent=2))
    account, events, reasons = _read(p)
    assert (account.format, account.records, account.events) == ("github", 2, 1)
    assert reasons == {"missing-address": 1}
    (e,) = events
    assert e.time == _utc(2020, 12, 2, 17, 24, 34, 512000)  # epoch milliseconds
    assert (e.src_ip, e.persona, e.channel) == ("81.2.69.142", "octocat", "github")
    assert (e.attributes["action"], e.attributes["country"]) == ("team.add_member", "GB")
    assert e.attributes["record_id"] == "xJJFlFOhQ6b-5vaAFy9Rjw"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("array-of-numbers.json", b"[1, 2]"),
        ("cut.json", b'{"Records": [{"eventSource": "s3.amazonaws.com", "eventName": "x", '
                     b'"eventTime": "2020-01-01T00:00:00Z", "sourceIPAddress": "1.2.3.4"}, {"a"'),
    ],
)  # fmt: skip
def test_documents_account_for_broken_records(tmp_path: Path, name: str, data: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    result = ingest(p, ReadOptions())
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates
    if name == "cut.json":
        (f,) = result.files
        assert (f.format, f.events, f.rejected) == ("cloudtrail", 1, 1)
        assert result.rejections[0].reason == "bad-json"
        assert result.rejections[0].locator == "record 2"


def test_entra_signin_csv_exports(tmp_path: Path) -> None:
    # The admin centre's "Download" CSV and Log Analytics' CSV export, in their column layouts,
    # holding the Event Hub record's values (no real public export exists: SOURCES.md).
    portal = tmp_path / "InteractiveSignIns_2019-10-18.csv"
    portal.write_text(
        "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,IP address,"
        "Location,Status,Sign-in error code,Failure reason,Client app,Application\n"
        "2019-10-18T09:45:48Z,8a4de8b5-095c-47d0-a96f-a75130c61d53,Mozilla/5.0,c1,u1,"
        'Test LTest,test@elastic.co,81.171.241.231,"Champs-Sur-Marne, Seine-Et-Marne, FR",'
        "Interrupted,50140,\"This error occurred due to 'Keep me signed in' interrupt\","
        "Browser,Office 365\n"
        "2019-10-18T09:46:00Z,r2,,c2,u1,Test LTest,test@elastic.co,,FR,Failure,50126,x,"
        "Browser,Office 365\n"
    )
    account, events, reasons = _read(portal)
    assert (account.format, account.records, account.events) == ("entra", 2, 1)
    assert reasons == {"missing-address": 1}
    (e,) = events
    assert (e.time, e.src_ip) == (_utc(2019, 10, 18, 9, 45, 48), "81.171.241.231")
    assert (e.persona, e.channel) == ("test@elastic.co", "signin")
    assert (e.attributes["result"], e.attributes["status"]) == ("50140", "Interrupted")
    assert e.attributes["location"] == "Champs-Sur-Marne, Seine-Et-Marne, FR"
    assert e.attributes["record_id"] == "8a4de8b5-095c-47d0-a96f-a75130c61d53"
    la = tmp_path / "query_data.csv"
    la.write_text(
        "TimeGenerated [UTC],UserPrincipalName,IPAddress,ResultType,AppDisplayName\n"
        '"10/18/2019, 9:45:48.072 AM",test@elastic.co,81.171.241.231,50140,Office 365\n'
        '"10/18/2019, 9:45:49.000 PM",test@elastic.co,81.171.241.231,0,Office 365\n'
    )
    account, events, _ = _read(la)
    assert (account.format, account.events) == ("entra", 2)
    assert [e.time for e in events] == [
        _utc(2019, 10, 18, 9, 45, 48, 72000),
        _utc(2019, 10, 18, 21, 45, 49),  # 9 PM
    ]


def test_byte_order_mark_before_json_lines(tmp_path: Path) -> None:
    # Windows tools write a UTF-8 BOM before the first record (PowerShell Out-File, Excel).
    p = tmp_path / "okta.jsonl"
    p.write_bytes(
        b"\xef\xbb\xbf" + (TODAY / "okta" / "beats-okta-system-lines1-4.jsonl").read_bytes()
    )
    account, events, reasons = _read(p)
    assert (account.format, account.events) == ("okta", 4)
    assert not reasons
    assert events[0].attributes["record_id"] == "faf7398a-4f77-11ea-97fb-5925e98228bd"
