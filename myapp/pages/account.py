"""The account page: time zone, password, signed-in devices, API tokens, the calendar feed,
export, deletion."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from .. import ratelimits, transfers
from ..errors import ValidationError, json_error
from ..forms import DeleteAccountForm, ImportForm, PasswordForm, TimezoneForm, TokenForm, optional_int, show_errors
from ..services import calendar_feed, imports, signins, tasks, tokens, users
from .blueprint import bp
from .calendar import feed_urls


def _account_page(status: int = 200, **context):
    """The account page; a form given in `context` (with its errors) replaces the blank one."""
    forms = {
        "password_form": PasswordForm(formdata=None),
        "timezone_form": TimezoneForm(formdata=None, timezone=current_user.timezone),
        "token_form": TokenForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        "import_form": ImportForm(formdata=None),
    }
    return render_template("pages/account.html", **{**forms, **context},
                           api_tokens=tokens.list_tokens(current_user.id),
                           sign_ins=signins.list_sign_ins(current_user.id),
                           needs_password=not _recently_authenticated(),
                           counts=tasks.count_tasks(current_user.id),
                           calendar=feed_urls(calendar_feed.feed_secret(current_user)),
                           max_import_bytes=imports.MAX_BYTES), status


def _recently_authenticated() -> bool:
    """Whether the password was typed on this device within signins.RECENT ("sudo mode")."""
    typed = current_user.authenticated_at
    return typed is not None and datetime.now(UTC) - typed < signins.RECENT


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordForm()
    ratelimits.spend_password_check(current_user.email)
    try:
        users.change_password(current_user.id, form.current_password.data, form.new_password.data,
                              keep_sign_in=current_user.sign_in_id, revoke_tokens=form.revoke_tokens.data)
    except ValidationError as error:
        show_errors(form, error.details)
        return _account_page(422, password_form=form)
    ended = "Every other device was signed out"
    flash(f"Password changed. {ended}{' and every API token revoked' if form.revoke_tokens.data else ''}.",
          "success")
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
    """A token outlives the session that made it, so a stolen cookie alone must not be
    enough: unless the password was typed here recently, it is asked for again."""
    form = TokenForm()
    try:
        if not _recently_authenticated():
            ratelimits.spend_password_check(current_user.email)
            signins.confirm_password(current_user.id, current_user.sign_in_id, form.password.data)
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


@bp.post("/account/sign-ins/<sign_in_id>/end")
@login_required
def end_sign_in(sign_in_id):
    signins.end(current_user.id, sign_in_id)
    if sign_in_id == str(current_user.sign_in_id):
        logout_user()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.sign_in"))
    flash("That device is signed out: its next request will ask it to sign in.", "success")
    return redirect(url_for("pages.account"))


@bp.get("/account/export", defaults={"extension": "json"})
@bp.get("/account/export.csv", defaults={"extension": "csv"})
@bp.get("/account/export.ics", defaults={"extension": "ics"})
@login_required
def export(extension: str):
    return transfers.export_response(current_user, extension)


@bp.post("/account/import")
@transfers.body_limit(imports.MAX_BYTES)
@login_required
def import_file():
    """Import a file; asked for NDJSON (the page's script), progress lines as rows are stored,
    then the report as HTML for the page to show; else the account page with the report."""
    ratelimits.spend_import(current_user.id)
    form = ImportForm()
    dry_run = request.form.get("dry_run") == "true"
    upload = form.file.data
    try:
        if upload is None or not hasattr(upload, "read"):
            raise ValidationError(details={"file": "Choose a file to import."})
        events = imports.import_file(current_user.id, upload.read(), upload.filename or "", form.format.data or None,
                                     dry_run, current_user.timezone)
        if transfers.wants_ndjson():
            return transfers.ndjson_response(_with_html(events))
        *_, report = events
    except ValidationError as error:
        if transfers.wants_ndjson():  # the page's script shows the message itself
            return json_error(error.status, error.code, error.message, error.details)
        show_errors(form, error.details)
        return _account_page(422, import_form=form)
    return _account_page(import_form=form, import_report=report)


def _with_html(events):
    """The report, rendered as the page shows it, beside the report itself."""
    for event in events:
        if "format" in event:
            event = {"report": event, "html": render_template("pages/_import_report.html", report=event)}
        yield event


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    ratelimits.spend_password_check(current_user.email)
    try:
        users.delete_account(current_user.id, form.password.data)
    except ValidationError as error:
        show_errors(form, error.details)
        return _account_page(422, delete_form=form)
    logout_user()
    flash("Your account and everything in it were deleted.", "info")
    return redirect(url_for("pages.index"))
