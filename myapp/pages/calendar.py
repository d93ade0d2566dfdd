"""The calendar feed's URL (served to calendar apps, without a session) and its controls
on the account page."""
from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .. import ratelimits
from ..services import calendar_feed
from .blueprint import bp


def feed_urls(secret: str | None) -> dict[str, str] | None:
    """The feed's https (or http) URL and its webcal:// twin, which calendar apps subscribe to."""
    if secret is None:
        return None
    url = url_for("pages.calendar", secret=secret, _external=True)
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


@bp.get("/calendar/<secret>.ics")
def calendar(secret: str):
    ratelimits.spend_feed_read()
    feed = calendar_feed.read_feed(secret)  # NotFound (404) for any secret that opens no feed
    body = calendar_feed.to_ics(feed, lambda task_id: url_for("pages.edit", task_id=task_id, _external=True))
    response = Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, no-cache"})
    # The ETag alone: a Last-Modified from the tasks still in it could go back in time when
    # the newest one leaves the feed (done, deleted), and If-Modified-Since would then say 304.
    response.add_etag()
    return response.make_conditional(request)


@bp.post("/account/calendar")
@login_required
def regenerate_calendar():
    had_one = current_user.calendar_nonce is not None
    calendar_feed.regenerate(current_user.id)
    flash("A new calendar URL is ready: the old one no longer works." if had_one else
          "Your calendar URL is ready: add it to your calendar app.", "success")
    return redirect(url_for("pages.account") + "#calendar")


@bp.post("/account/calendar/off")
@login_required
def revoke_calendar():
    calendar_feed.revoke(current_user.id)
    flash("The calendar URL no longer works.", "success")
    return redirect(url_for("pages.account") + "#calendar")
