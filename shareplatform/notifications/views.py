"""The notifications page, and the header's link with my unread count."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, request, url_for

from ..web.permissions import Permission, requires
from ..web.rendering import render
from ..web.request import ctx, principal
from . import services

bp = Blueprint("notifications", __name__, template_folder="templates")
log = logging.getLogger(__name__)


def target_url(key: str) -> str:
    """Where an item leads: its record, action, the review list or my account."""
    kind, _, ident = key.partition(":")
    if kind == "record":
        return url_for("records.record", record_id=ident)
    if kind == "action":
        return url_for("mappa.action", action_id=ident)
    if kind == "reviews":
        return url_for("break_glass.reviews")
    return url_for("auth.account")


@bp.route("/notifications")
@requires(Permission.SIGNED_IN)
def index():
    items = services.my_notifications(ctx())
    return render(
        "notifications/index.html",
        [i.label for i in items],
        items=items,
        unread=sum(1 for i in items if i.unread),
        target_url=target_url,
    )


@bp.route("/notifications/<notification_id>")
@requires(Permission.SIGNED_IN)
def open_one(notification_id: str):
    item = services.open_notification(ctx(), notification_id)
    return redirect(target_url(item.href))


@bp.route("/notifications/read", methods=["POST"])
@requires(Permission.SIGNED_IN)
def read_all():
    services.mark_all_read(ctx())
    return redirect(url_for("notifications.index"))


def header_link() -> dict[str, object]:
    """The header's one link to the notification centre, with the unread count."""
    who = principal()
    if who is None or not who.mfa_done:
        return {}
    try:
        count = services.unread_count(ctx())
    except Exception:  # the header must never break a page
        log.exception("notification count could not be built")
        return {}
    text = f"Notifications ({count} unread)" if count else "Notifications"
    return {
        "notifications_link": {
            "href": url_for("notifications.index"),
            "text": text,
            "current": request.endpoint == "notifications.index",
        }
    }
