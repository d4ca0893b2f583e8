"""Importing agenda items from a spreadsheet over HTTP: CSV and .xlsx, English or Vietnamese column names,
a preview with each bad row's number and fault, nothing stored before the confirmation, and a clear refusal
(never a 500) for files that are not a readable agenda."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import pytest
from openpyxl import Workbook

from ecabinet.extensions import db
from ecabinet.meetings import service
from ecabinet.meetings.models import ItemKind
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login
from tests.meetings.conftest import actor, audit_actions

HEADER_EN = ["title", "ministry", "presenter", "duration", "kind", "summary"]
HEADER_VI = ["Tiêu đề", "Cơ quan trình", "Người trình bày", "Thời lượng (phút)", "Loại", "Tóm tắt"]
ROWS = [["Dự thảo Nghị định về đầu tư công", "Bộ Tài chính", "Bộ trưởng Bộ Tài chính", "20", "decision",
         "Tờ trình số 12"],
        ["Báo cáo tình hình giải ngân", "Bộ Tài chính", "", "15 phút", "Thông tin", ""],
        ["Đề án chuyển đổi số", "Bộ Khoa học và Công nghệ", "", "", "thảo luận", ""]]


def csv_bytes(rows, delimiter=",", encoding="utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, formula_at: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if formula_at:
        sheet[formula_at] = "=10+5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _items(meeting) -> list[str]:
    db.session.expire_all()
    return [i.title for i in service.get_meeting(meeting.id).items]


def _preview(client, meeting, data: bytes, name: str):
    url = f"/meetings/{meeting.id}/import"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _confirm(client, meeting, page: str):
    rows = re.search(r'id="rows" name="rows" type="hidden" value="([^"]*)"', page).group(1)
    import html

    return client.post(f"/meetings/{meeting.id}/import/confirm",
                       data={"csrf_token": csrf_from(page), "rows": html.unescape(rows)})


@pytest.fixture
def secretary(client, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    return client


def test_csv_preview_stores_nothing_then_the_confirmation_adds_the_items(secretary, draft):
    before = _items(draft)
    r = _preview(secretary, draft, csv_bytes([HEADER_EN, *ROWS]), "chuong-trinh.csv")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "3 dòng có thể nhập" in page and 'data-testid="import-confirm"' in page
    assert _items(draft) == before  # nothing stored by the preview
    r = _confirm(secretary, draft, page)
    assert r.status_code == 302
    meeting = service.get_meeting(draft.id)
    added = meeting.items[len(before):]
    assert [(i.title, i.ministry, i.presenter, i.duration_minutes, i.kind, i.summary) for i in added] == [
        (ROWS[0][0], "Bộ Tài chính", "Bộ trưởng Bộ Tài chính", 20, ItemKind.DECISION, "Tờ trình số 12"),
        (ROWS[1][0], "Bộ Tài chính", "", 15, ItemKind.INFORMATION, ""),
        (ROWS[2][0], "Bộ Khoa học và Công nghệ", "", 10, ItemKind.DISCUSSION, "")]
    assert audit_actions()[-1] == "agenda.import"


def test_xlsx_with_vietnamese_headers_and_per_row_errors(secretary, draft):
    rows = [HEADER_VI, *ROWS, ["", "Bộ Y tế", "", "10", "decision", ""],          # row 5: no title
            ["Kế hoạch phòng dịch", "Bộ Y tế", "", "mười", "decision", ""],      # row 6: duration not a number
            ["Điều hành tiền tệ", "NHNN", "", "700", "vote", ""],                # row 7: too long, unknown kind
            ["Công thức", "Bộ Y tế", "", "", "decision", ""]]                    # row 8: formula in D8
    r = _preview(secretary, draft, xlsx_bytes(rows, formula_at="D8"), "chuong-trinh.xlsx")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "3 dòng có thể nhập" in page and "4 dòng có lỗi và sẽ bị bỏ qua" in page
    rows_html = re.findall(r'<tr class="import-\w+" id="import-row-(\d+)">(.*?)</tr>', page, re.DOTALL)
    problems = {int(n): row for n, row in rows_html if "import-problems" in row}
    assert sorted(problems) == [5, 6, 7, 8]
    assert "Dòng 5:" in problems[5] and "Thiếu tên mục" in problems[5]
    assert "“mười” không phải là số phút" in problems[6]
    assert "từ 1 đến 600 phút" in problems[7] and "Loại “vote” không hợp lệ" in problems[7]
    assert "Ô D8 chứa công thức" in problems[8]
    before = len(_items(draft))
    _confirm(secretary, draft, page)
    assert len(_items(draft)) == before + 3  # the rows in error are skipped


def test_semicolon_and_utf16_csv_are_read(secretary, draft):
    for data in (csv_bytes([HEADER_EN, *ROWS], delimiter=";"),
                 csv_bytes([HEADER_VI, *ROWS], delimiter="\t", encoding="utf-16")):
        r = _preview(secretary, draft, data, "agenda.csv")
        assert r.status_code == 200 and "3 dòng có thể nhập" in r.get_data(as_text=True)


def _big_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (40 * 1024 * 1024) + b">")
    return out.getvalue()


BAD_FILES = {
    "pdf": (b"%PDF-1.7\n" + b"\x00\x01" * 100, "a.csv", "không phải bảng tính"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "a.xlsx", "không phải bảng tính"),
    "empty": (b"", "a.csv", "Tệp trống"),
    "too_big": (b"title\n" + b"a,b,c\n" * 400_000, "a.csv", "lớn hơn 2 MB"),
    "odd_bytes": (b"title,ministry\nabc\x00def,x\n", "a.csv", "byte lạ"),
    "latin1": ("title\nĐề án".encode("cp1258", "replace") + b"\xe9t\xe9", "a.csv", "không phải văn bản UTF-8"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "a.xls", "tệp Excel cũ"),
    "broken_zip": (b"PK\x03\x04" + b"\x00" * 100, "a.xlsx", "Bảng tính bị hỏng"),
    "zip_not_xlsx": (None, "a.xlsx", "Bảng tính bị hỏng"),
    "zip_bomb": (None, "a.xlsx", "giải nén lớn hơn"),
    "no_title_column": (csv_bytes([["name", "when"], ["x", "y"]]), "a.csv", "không có cột “Tiêu đề”"),
    "header_only": (csv_bytes([HEADER_EN]), "a.csv", "không có mục nào"),
    "bad_quotes": (b'title\n"abc\n' + b"x" * 200_000, "a.csv", "Tệp CSV bị lỗi"),
    "rows_10000_csv": (csv_bytes([HEADER_EN] + [[f"Mục {n}", "", "", "10", "", ""] for n in range(10_000)]),
                       "a.csv", "hơn 300 dòng"),
    "rows_10000_xlsx": (None, "a.xlsx", "hơn 300 dòng"),
    "header_formula": (None, "a.xlsx", "Ô A1 chứa công thức"),
}


def _bad_file(case: str) -> bytes:
    data = BAD_FILES[case][0]
    if data is not None:
        return data
    if case == "zip_not_xlsx":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("hello.txt", "hello")
        return out.getvalue()
    if case == "zip_bomb":
        return _big_zip()
    if case == "rows_10000_xlsx":
        return xlsx_bytes([HEADER_EN] + [[f"Mục {n}", "", "", 10, "", ""] for n in range(10_000)])
    if case == "header_formula":
        return xlsx_bytes([HEADER_EN, *ROWS], formula_at="A1")
    raise AssertionError(case)


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_a_clear_error_and_nothing_is_stored(secretary, draft, case):
    before = _items(draft)
    data, name, words = _bad_file(case), BAD_FILES[case][1], BAD_FILES[case][2]
    started = time.monotonic()
    r = _preview(secretary, draft, data, name)
    assert time.monotonic() - started < 10
    page = r.get_data(as_text=True)
    assert r.status_code == 400, (case, r.status_code)
    error = re.search(r'id="import-error">(.*?)</p>', page, re.DOTALL).group(1)
    assert words in error, (case, error)
    assert 'data-testid="import-confirm"' not in page and _items(draft) == before


def test_no_file_chosen_is_a_clear_error(secretary, draft):
    url = f"/meetings/{draft.id}/import"
    r = secretary.post(url, data={"csrf_token": csrf_from(secretary.get(url).get_data(as_text=True))})
    assert r.status_code == 400 and "Hãy chọn tệp cần nhập" in r.get_data(as_text=True)


@pytest.mark.parametrize("rows", ["", "not json", "{}", "[]", json.dumps([{"title": "x", "kind": "vote"}]),
                                  json.dumps([{"title": "", "duration_minutes": 10}]),
                                  json.dumps([{"title": "x", "duration_minutes": "abc"}]),
                                  json.dumps([{"title": "x"}] * 301)])
def test_a_tampered_confirmation_stores_nothing(secretary, draft, rows):
    before = _items(draft)
    page = secretary.get(f"/meetings/{draft.id}/import").get_data(as_text=True)
    r = secretary.post(f"/meetings/{draft.id}/import/confirm", data={"csrf_token": csrf_from(page), "rows": rows})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/meetings/{draft.id}/import")
    assert _items(draft) == before


def test_import_is_refused_once_the_meeting_has_started(secretary, published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    db.session.commit()
    page = secretary.get(f"/meetings/{published.id}/import").get_data(as_text=True)
    assert 'data-testid="import-preview"' not in page
    before = _items(published)
    r = secretary.post(f"/meetings/{published.id}/import/confirm",
                       data={"csrf_token": csrf_from(page), "rows": json.dumps([{"title": "Mới"}])},
                       follow_redirects=True)
    assert "đã bắt đầu" in r.get_data(as_text=True) and _items(published) == before


def test_only_the_secretariat_imports(client, published, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    token = csrf_from(client.get(f"/meetings/{published.id}").get_data(as_text=True))
    assert client.get(f"/meetings/{published.id}/import").status_code == 403
    r = client.post(f"/meetings/{published.id}/import/confirm",
                    data={"csrf_token": token, "rows": json.dumps([{"title": "x"}])})
    assert r.status_code == 403
