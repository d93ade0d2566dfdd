"""Flask-Login wiring: which user a session or remember-me cookie belongs to."""
from flask import flash, redirect, request, url_for
from flask_login import LoginManager

from .security import local_path
from .services import users


def load_user(session_id: str):
    """The id in the session is "<user id>:<session epoch>" (models.User.get_id).

    A password change bumps the epoch, so every older session and remember-me
    cookie stops matching and is signed out.
    """
    user_id, _, epoch = session_id.partition(":")
    if not epoch.isdigit():
        return None
    return users.load_user(user_id, int(epoch))


def configure(manager: LoginManager) -> None:
    manager.user_loader(load_user)
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
