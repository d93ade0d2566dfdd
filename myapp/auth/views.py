"""Sign-up, sign-in and sign-out pages.

Attempts are rate-limited per client address and per account-and-address pair:
someone hammering one account from their own address is stopped without locking
its owner out anywhere else.
"""
from __future__ import annotations

import contextlib

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import ratelimits
from ..errors import InvalidCredentials, NotFound, ValidationError
from ..forms import SignInForm, SignUpForm, show_errors
from ..security import local_path
from ..services import signins, users
from .blueprint import bp


def _next_page() -> str:
    return local_path(request.args.get("next")) or url_for("pages.index")


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


def _begin_session(account, remember: bool) -> None:
    """Sign the browser in, with a new CSRF token: one read before signing in is worthless after."""
    login_user(account, remember=remember)
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)


def _form_page(template: str, form, **context):
    status = 422 if form.errors or form.form_errors else 200
    return render_template(template, form=form, next=local_path(request.args.get("next")), **context), status


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = SignUpForm()
    if request.method == "POST":
        ratelimits.spend_sign_up_attempt()
        try:
            user = users.create_user(form.email.data, form.password.data, form.timezone.data or "UTC")
        except ValidationError as error:
            show_errors(form, error.details)
        else:
            _begin_session(signins.start(user.id, _user_agent()), remember=False)
            flash("Welcome! Your account is ready. Add your first task below.", "success")
            return redirect(_next_page())
    return _form_page("auth/sign_up.html", form)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = SignInForm()
    if request.method == "POST":
        ratelimits.spend_sign_in_attempt(form.email.data)
        try:
            account = signins.sign_in(form.email.data, form.password.data, _user_agent(), form.remember.data)
        except InvalidCredentials as error:
            form.form_errors.append(error.message)
        else:
            _begin_session(account, remember=form.remember.data)
            flash("Welcome back.", "success")
            return redirect(_next_page())
    return _form_page("auth/sign_in.html", form)


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        with contextlib.suppress(NotFound):  # already ended from another device
            signins.end(current_user.id, current_user.sign_in_id)
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("pages.index"))
