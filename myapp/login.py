"""Flask-Login wiring: which user a session or remember-me cookie belongs to."""
from flask_login import LoginManager

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
