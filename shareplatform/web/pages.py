"""The pages every GOV.UK service has: accessibility statement, cookies, contact (public, so they
can be read before signing in) and help for each role's main journeys (signed in).

No page here shows classified content: each renders at OFFICIAL.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app

from .display import display_name
from .permissions import SIGNED_IN, public, requires
from .rendering import render
from .shell import ANON_COOKIE, SESSION_COOKIE

bp = Blueprint("pages", __name__)

# topic -> (title, who it is for); the text is in templates/pages/help/<topic>.html
HELP_TOPICS = {
    "post-a-note": ("Post a note on a case", "Practitioners"),
    "record-a-mappa-decision": ("Record a MAPPA decision", "MAPPA chairs and co-chairs"),
    "change-the-access-policy": ("Change the access policy", "Policy administrators"),
    "verify-the-audit-log": ("Verify the audit log", "Auditors"),
}

DEFAULT_CONTACT = "your agency's IT service desk"


@bp.route("/accessibility")
@public
def accessibility():
    return render("pages/accessibility.html")


@bp.route("/cookies")
@public
def cookies():
    return render("pages/cookies.html", session_cookie=SESSION_COOKIE, visitor_cookie=ANON_COOKIE)


@bp.route("/contact")
@public
def contact():
    support = str(current_app.config.get("SUPPORT_CONTACT") or DEFAULT_CONTACT)
    return render("pages/contact.html", support=support)


@bp.route("/help")
@requires(SIGNED_IN)
def help_index():
    return render("pages/help/index.html", topics=HELP_TOPICS)


@bp.route("/help/<topic>")
@requires(SIGNED_IN)
def help_topic(topic: str):
    if topic not in HELP_TOPICS:
        abort(404)
    title, audience = HELP_TOPICS[topic]
    return render(f"pages/help/{topic}.html", title=title, audience=audience)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(display_name, "display_name")
    app.jinja_env.globals["display_name"] = display_name  # imported macros see globals
