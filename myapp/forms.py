"""The browser forms: they carry and render fields, nothing more.

Input is validated once, in the service layer; a page maps the service's
ValidationError.details back onto these fields with show_errors(). CSRF is checked
for every POST by CSRFProtect (myapp.extensions.csrf), so the forms do not check it
a second time; templates render the token with the csrf_field() macro.
"""
from __future__ import annotations

import re
from functools import cache

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import DateInput, EmailInput, HiddenInput, NumberInput, TimeInput

from .models import COLORS, PRIORITIES
from .services import timezones
from .services.scheduling import describe

_TAG_SEPARATORS = re.compile(r"[\s,]+")


@cache
def timezone_choices() -> list[SelectChoice]:
    """UTC, then every Region/City zone, grouped by region."""
    zones = [zone for zone in timezones.choices() if "/" in zone and not zone.startswith("Etc/")]
    return [SelectChoice("UTC"), *(
        SelectChoice(zone, zone.replace("_", " ").replace("/", " / "), optgroup=zone.partition("/")[0])
        for zone in zones)]


def _choices(pairs: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs.items()]


def show_errors(form: FlaskForm, details: dict[str, str]) -> None:
    """Put each message next to its field; messages about no field go on top of the form."""
    for field, message in details.items():
        if field in form._fields:
            form[field].errors = [message]
        else:
            form.form_errors.append(message)


def optional_int(raw: str | None):
    """"" -> None, "12" -> 12; anything else goes on as typed, for the service to refuse."""
    text = (raw or "").strip()
    if not text:
        return None
    # Short digit strings only: int() refuses more than 4,300 digits with an error.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


class PageForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect already refuses every POST without a valid token


class SignUpForm(PageForm):
    email = StringField("Email", widget=EmailInput(), render_kw={"autocomplete": "email", "required": True})
    password = PasswordField("Password", render_kw={"autocomplete": "new-password", "required": True})
    timezone = SelectField("Time zone", choices=timezone_choices, default="UTC", validate_choice=False)


class SignInForm(PageForm):
    email = StringField("Email", widget=EmailInput(), render_kw={"autocomplete": "email", "required": True})
    password = PasswordField("Password", render_kw={"autocomplete": "current-password", "required": True})
    remember = BooleanField("Keep me signed in on this device")


class TaskForm(PageForm):
    title = StringField("Title", render_kw={"maxlength": 255, "autocomplete": "off", "required": True})
    description = TextAreaField("Description", render_kw={"rows": 3, "maxlength": 10000})
    due_date = StringField("Due date", widget=DateInput())
    due_time = StringField("Time", widget=TimeInput())
    recurrence = StringField("Repeats", render_kw={"autocomplete": "off", "placeholder": "every monday"})
    priority = SelectField("Priority", choices=_choices({p: p.capitalize() for p in PRIORITIES}), default="none",
                           validate_choice=False)
    tags = StringField("Tags", render_kw={"autocomplete": "off", "placeholder": "work, home"})
    # Where the task goes: a project page's add box names its project, a subtask's box its parent.
    project_id = HiddenField()
    parent_id = HiddenField()
    return_to = HiddenField()

    def values(self) -> dict:
        """The task as the service takes it: tags split on commas and spaces, blanks as None."""
        tags = [tag.removeprefix("#") for tag in _TAG_SEPARATORS.split(self.tags.data or "")]
        return {
            "title": self.title.data or "",
            "description": self.description.data or None,
            "due_date": self.due_date.data or None,
            "due_time": self.due_time.data or None,
            "recurrence": {"text": self.recurrence.data.strip()} if (self.recurrence.data or "").strip() else None,
            "priority": self.priority.data,
            "tags": [tag for tag in tags if tag],
            "project_id": self.project_id.data or None,
            "parent_id": self.parent_id.data or None,
        }

    def fill(self, task) -> None:
        """Show a task's current values in the fields."""
        self.title.data = task.title
        self.description.data = task.description or ""
        self.due_date.data = task.due_date.isoformat() if task.due_date else ""
        self.due_time.data = task.due_time or ""
        self.recurrence.data = describe(task.recurrence_rule, task.recurrence_mode) if task.recurrence_rule else ""
        self.priority.data = task.priority
        self.tags.data = ", ".join(task.tags)


class EditTaskForm(TaskForm):
    completed = BooleanField("Done")
    version = IntegerField(widget=HiddenInput())
    # The repeat text as the page showed it: unchanged, the schedule is left as it is
    # (sent again, it would start afresh from the due date).
    recurrence_shown = HiddenField()
    # The user's projects are the choices (set by the page); moving a subtask to another
    # project makes it a root task there.
    project_id = SelectField("Project", choices=[], validate_choice=False)

    def values(self) -> dict:
        values = {**super().values(), "completed": self.completed.data}
        if (self.recurrence.data or "").strip() == (self.recurrence_shown.data or "").strip() and \
                (self.recurrence.data or "").strip():
            del values["recurrence"]
        del values["parent_id"]  # the edit page moves between projects; subtasks are added on the project page
        if values["project_id"] is None:  # no choice sent: it stays where it is
            del values["project_id"]
        return values

    def fill(self, task) -> None:
        super().fill(task)
        self.recurrence_shown.data = self.recurrence.data
        self.completed.data = task.completed
        self.version.data = task.version
        self.project_id.data = str(task.project_id)

    def offer_projects(self, projects) -> None:
        self.project_id.choices = [SelectChoice(str(p.id), p.name + (" (archived)" if p.archived else ""))
                                   for p in projects]


class ProjectForm(PageForm):
    name = StringField("Name", render_kw={"maxlength": 100, "autocomplete": "off", "required": True})
    color = SelectField("Colour", choices=_choices({c: c.capitalize() for c in COLORS}), default="grey",
                        validate_choice=False)
    version = IntegerField(widget=HiddenInput())

    def values(self) -> dict:
        return {"name": self.name.data or "", "color": self.color.data}

    def fill(self, project) -> None:
        self.name.data = project.name
        self.color.data = project.color
        self.version.data = project.version


class PasswordForm(PageForm):
    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", render_kw={"autocomplete": "new-password"})
    revoke_tokens = BooleanField("Also revoke every API token", default=True)


class TimezoneForm(PageForm):
    timezone = SelectField("Time zone", choices=timezone_choices, validate_choice=False)


class TokenForm(PageForm):
    name = StringField("Name", render_kw={"maxlength": 100, "autocomplete": "off",
                                          "placeholder": "e.g. backup script"})
    scope = SelectField("Access", choices=_choices({"write": "Read and write", "read": "Read only"}),
                        default="write", validate_choice=False)
    expires_in_days = StringField("Expires after (days)", widget=NumberInput(min=1, max=3650),
                                  render_kw={"placeholder": "never"})
    # Asked when the password was not typed on this device in the last minutes (signins.RECENT).
    password = PasswordField("Your password", id="token-password", render_kw={"autocomplete": "current-password"})


class DeleteAccountForm(PageForm):
    password = PasswordField("Your password", render_kw={"autocomplete": "current-password"})


class ImportForm(PageForm):
    file = FileField("File", render_kw={"accept": ".json,.csv,.ics,.txt,application/json,text/csv,text/calendar"})
    format = SelectField("Format", choices=_choices({
        "": "Detect it", "json": "This app's JSON export", "todoist-csv": "Todoist (CSV)",
        "ticktick-csv": "TickTick (backup CSV)", "csv": "Any CSV with a header row", "ics": "iCalendar (.ics)"}),
        validate_choice=False)
