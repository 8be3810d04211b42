""""My devices": the browser page over the device list (``accounts.devices``).

A delegate whose tablet was lost, or a hall tablet enrolled by a QR code that should no
longer be signed in, ends it here without the REST API: each live session and token is
listed with its label ("enrolled by QR code for …"), address and last use, and signed out
by a form post (CSRF-checked, works without JavaScript).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from meetings.accounts import devices
from meetings.accounts.auth import current_credential
from meetings.core.errors import NotFound
from meetings.core.extensions import db

bp = Blueprint("device_pages", __name__)


def _local(value: datetime | None) -> str:
    # As the hall reads it ("14:30, 27/11/2026"), in the installation's zone.
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%H:%M, %d/%m/%Y") if value else ""


@bp.route("/devices")
@login_required
def my_devices():
    """The caller's live sessions and tokens, this one first."""
    listed = devices.list_devices(db.session, current_user._get_current_object(), current=current_credential())
    listed.sort(key=lambda d: not d["current"])
    return render_template("accounts/devices.html", devices=listed, local=_local)


@bp.route("/devices/<string:device_id>/sign-out", methods=["POST"])
@login_required
def sign_out(device_id: str):
    """End one device of the caller's; ending this very one ends the page's session too."""
    this_one = device_id == current_credential()
    try:
        devices.sign_out_device(db.session, current_user._get_current_object(), device_id)
    except NotFound:
        flash(_("That device is already signed out."), "error")
        return redirect(url_for("device_pages.my_devices"))
    if this_one:
        return redirect(url_for("accounts_pages.login"))
    flash(_("The device is signed out; its offline copies are wiped when it next connects."), "info")
    return redirect(url_for("device_pages.my_devices"))


@bp.route("/devices/sign-out-others", methods=["POST"])
@login_required
def sign_out_others():
    """End every other session and token of the caller's, keeping this one."""
    user = current_user._get_current_object()
    ended = devices.sign_out_everywhere(db.session, user, user, current=current_credential())
    flash(_("%(n)d other device(s) signed out.", n=ended), "info")
    return redirect(url_for("device_pages.my_devices"))
