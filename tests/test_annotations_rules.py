"""Pure rules of annotations: geometry normalisation, limits, audiences."""
from __future__ import annotations

import math

import pytest

from meetings.annotations import rules
from meetings.core.errors import Invalid


def test_geometry_is_normalised():
    assert rules.check_geometry("rect", {"rect": [300, 400, 100, 200]}) == {"rect": [100.0, 200.0, 300.0, 400.0],
                                                                             "width": 2.0}
    ink = rules.check_geometry("ink", {"strokes": [[[1, 2], [3, 4, 1]]], "width": 1, "junk": 5})
    assert ink == {"strokes": [[[1.0, 2.0, 0.5], [3.0, 4.0, 1.0]]], "width": 1.0}
    assert rules.check_geometry("note", {"point": [10, 20]}) == {"point": [10.0, 20.0]}
    assert rules.check_geometry("arrow", {"line": [0, 0, 10, 10]})["line"] == [0.0, 0.0, 10.0, 10.0]


@pytest.mark.parametrize("kind,geometry", [
    ("ink", {"strokes": [[[math.nan, 1]]]}),
    ("ink", {"strokes": [[[math.inf, 1]]]}),
    ("ink", {"strokes": [[[True, 1]]]}),
    ("ink", {"strokes": [[]]}),
    ("ink", {"strokes": [[[0, 0]]] * (rules.MAX_STROKES + 1)}),
    ("highlight", {"rects": [[0, 0, 1]]}),
    ("highlight", {"rects": [[0, 0, 1, 1]] * (rules.MAX_RECTS + 1)}),
    ("note", {"point": [1]}),
    ("rect", {"rect": None}),
    ("arrow", {"line": [0, 0, 0, 20000]}),
    ("circle", {}),
    ("rect", {"rect": [0, 0, 1, 1], "width": 0}),
])
def test_bad_geometry_is_refused(kind, geometry):
    with pytest.raises(Invalid):
        rules.check_geometry(kind, geometry)


def test_anchor_text_and_colour():
    assert rules.check_anchor({"exact": "Điều 1", "start": 3, "end": 9}) == {
        "exact": "Điều 1", "prefix": "", "suffix": "", "start": 3, "end": 9}
    for bad in ({"exact": ""}, {"exact": "a", "start": 5, "end": 2}, {"exact": "a", "start": 1},
                {"exact": "a", "prefix": 3}, None):
        with pytest.raises(Invalid):
            rules.check_anchor(bad)
    assert rules.check_text("<b>nguyên văn</b>") == "<b>nguyên văn</b>"
    with pytest.raises(Invalid):
        rules.check_text("a\x00b")
    assert rules.check_color("#ABCDEF") == "#abcdef"
    with pytest.raises(Invalid):
        rules.check_color("#abc")


def test_audiences():
    assert rules.audience("private", 1, []) == {1}
    assert rules.audience("participants", 1, [2, 3]) == {1, 2, 3}
    assert rules.audience("meeting", 1, []) == "meeting" == rules.audience("presenter", 1, [])
    assert rules.may_see("private", 1, [], 1) and not rules.may_see("private", 1, [], 2)
    assert rules.may_see("participants", 1, [2], 2) and not rules.may_see("participants", 1, [2], 3)
