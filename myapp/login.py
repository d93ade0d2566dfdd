"""Flask-Login wiring: which user a session or remember-me cookie belongs to."""
from flask import flash, redirect, request, url_for
from flask_login import LoginManager

from .security import local_path
from .services import signins


def configure(manager: LoginManager) -> None:
    # The session and remember-me cookies name a sign-in: the user it belongs to, or
    # None once it has ended (signed out there, or by a password change).
    manager.user_loader(signins.load)
    manager.session_protection = "basic"
    manager.login_view = "auth.sign_in"
    manager.login_message = "Sign in to see your tasks."
    manager.login_message_category = "info"
    manager.unauthorized_handler(lambda: sign_in_first(manager))


def sign_in_first(manager: LoginManager):
    """To the sign-in page, and afterwards back to the page the visitor was on.

    For a form posted from a page whose session had ended, that is the page the form
    came from (its `return_to`), never the POST-only action URL itself.
    """
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:
        back = local_path(request.form.get("return_to")) or url_for("pages.index")
    flash(manager.login_message, manager.login_message_category)
    return redirect(url_for(manager.login_view, next=back))
