"""The tally of a form: per question, counted by the rules of polls (``meetings.voting.rules``).

Every recipient weighs one. For ``meetings.voting.rules.decide``:

- an "agree" question is a for/against/abstain poll: đồng ý = for, không đồng ý = against,
  ý kiến khác = abstain (out of a "cast" base);
- a "choice" question is a poll among its options (several may pass);
- ``cast`` is the number who answered the question, ``present`` the number who answered the
  form, ``entitled`` the number of recipients; written opinions need no quorum (0/1): the base
  (by default every recipient) carries the rule;
- the tie rule "chair" follows the form's chair's answer on that question.

The answer carries every figure it used.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings.opinions.models import AGREE_CHOICES, OpinionAnswer, OpinionForm, OpinionRecipient
from meetings.voting.rules import Threshold, decide

AGREE_LABELS = {"vi": {"agree": "Đồng ý", "disagree": "Không đồng ý", "other": "Ý kiến khác"},
                "en": {"agree": "Agree", "disagree": "Disagree", "other": "Other opinion"}}


def threshold_of(form: OpinionForm) -> Threshold:
    return Threshold(form.threshold_numerator, form.threshold_denominator, form.threshold_strict)


def _one(entry_by_q: dict[int, dict], question, form: OpinionForm, *, entitled: int, answered: int,
         chair_entry: dict | None) -> dict[str, Any]:
    rows = [e for e in entry_by_q.values()]
    if question.kind == "agree":
        counts = {k: 0 for k in AGREE_CHOICES}
        for e in rows:
            if e.get("choice") in counts:
                counts[e["choice"]] += 1
        options = [{"id": k, "label": AGREE_LABELS["vi"][k], "role": role, "count": counts[k]}
                   for k, role in AGREE_CHOICES.items()]
        kind = "for_against_abstain"
        chair_role = AGREE_CHOICES.get((chair_entry or {}).get("choice"))
    else:
        counts = {o["id"]: 0 for o in question.options}
        for e in rows:
            for oid in e.get("options") or []:
                if oid in counts:
                    counts[oid] += 1
        options = [{"id": o["id"], "label": o["label"], "count": counts[o["id"]]} for o in question.options]
        kind, chair_role = "choice", None
    outcome = decide(kind=kind, options=options, cast=len(rows), present=answered, entitled=entitled,
                     members=entitled, present_members=answered, quorum_rule=(0, 1), base=form.majority_base,
                     threshold=threshold_of(form), tie_rule=form.tie_rule, chair_role=chair_role)
    comments = [{"user_id": uid, "comment": e["comment"]} for uid, e in sorted(entry_by_q.items())
                if (e.get("comment") or "").strip()]
    return {"question_id": question.id, "position": question.position, "kind": question.kind,
            "text": question.text, "answered": len(rows), "comments": comments, **outcome}


def tally(session: Session, form: OpinionForm) -> dict[str, Any]:
    """The figures of every question now (live while open; stored in ``form.result`` at closing)."""
    recipients = sorted(session.scalars(select(OpinionRecipient.user_id).where(OpinionRecipient.form_id == form.id)))
    answers = {a.user_id: a for a in session.scalars(select(OpinionAnswer).where(OpinionAnswer.form_id == form.id))
               if a.user_id in set(recipients)}
    questions = []
    for q in form.questions:
        by_user = {uid: e for uid, a in answers.items() for e in a.answers if e.get("question_id") == q.id}
        chair_entry = by_user.get(form.chair_id) if form.chair_id else None
        questions.append(_one(by_user, q, form, entitled=len(recipients), answered=len(answers),
                              chair_entry=chair_entry))
    return {"form_id": form.id, "status": form.status, "recipients": len(recipients), "answered": len(answers),
            "not_answered": [u for u in recipients if u not in answers], "answered_ids": sorted(answers),
            "signed": sorted(u for u, a in answers.items() if a.paper_sha256),
            "majority_base": form.majority_base, "threshold": threshold_of(form).label(), "tie_rule": form.tie_rule,
            "questions": questions}
