"""The account page: password, time zone, API tokens, export, deletion."""
from __future__ import annotations

import json

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ValidationError
from ..forms import DeleteAccountForm, PasswordForm, TimezoneForm, TokenForm, optional_int, show_errors
from ..services import tasks, tokens, users
from . import bp


def _account_page(status: int = 200, **context):
    """The account page; a form given in `context` (with its errors) replaces the blank one."""
    forms = {
        "password_form": PasswordForm(formdata=None),
        "timezone_form": TimezoneForm(formdata=None, timezone=current_user.timezone),
        "token_form": TokenForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
    }
    return render_template("pages/account.html", **{**forms, **context},
                           api_tokens=tokens.list_tokens(current_user.id),
                           counts=tasks.count_tasks(current_user.id)), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordForm()
    try:
        user = users.change_password(current_user.id, form.current_password.data, form.new_password.data)
    except ValidationError as error:
        show_errors(form, error.details)
        return _account_page(422, password_form=form)
    # The new password ended every session, this one included: sign this one in again.
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(user, remember=remembered)
    flash("Password changed. Every other session was signed out.", "success")
    return redirect(url_for("pages.account"))


@bp.post("/account/timezone")
@login_required
def set_timezone():
    form = TimezoneForm()
    try:
        user = users.set_timezone(current_user.id, form.timezone.data)
    except ValidationError as error:
        show_errors(form, error.details)
        return _account_page(422, timezone_form=form)
    flash(f"Time zone set to {user.timezone.replace('_', ' ')}.", "success")
    return redirect(url_for("pages.account"))


@bp.post("/account/tokens")
@login_required
def create_token():
    form = TokenForm()
    try:
        token, secret = tokens.create_token(current_user.id, form.name.data, form.scope.data,
                                            optional_int(form.expires_in_days.data))
    except ValidationError as error:
        show_errors(form, error.details)
        return _account_page(422, token_form=form)
    # Shown in this response only (never stored, never put in a cookie or a flash).
    return _account_page(201, new_token=token, new_secret=secret)


@bp.post("/account/tokens/<token_id>/revoke")
@login_required
def revoke_token(token_id):
    tokens.revoke_token(current_user.id, token_id)
    flash("Token revoked. Programs using it can no longer sign in.", "success")
    return redirect(url_for("pages.account"))


@bp.get("/account/export")
@login_required
def export():
    data = users.export_data(current_user.id)
    filename = f"tasks-export-{tasks.today_in(current_user.timezone).isoformat()}.json"
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    try:
        users.delete_account(current_user.id, form.password.data)
    except ValidationError as error:
        show_errors(form, error.details)
        return _account_page(422, delete_form=form)
    logout_user()
    flash("Your account and everything in it were deleted.", "info")
    return redirect(url_for("pages.index"))
