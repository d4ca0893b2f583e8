"""Sign-in, own security settings, and the admin's user pages. Thin: policy, then service, then render."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Collection, Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ecabinet.accounts import policy, service
from ecabinet.accounts.auth import sign_in, sign_out
from ecabinet.accounts.forms import (
    ROLE_LABELS,
    ChangePasswordForm,
    CodeForm,
    EmptyForm,
    LoginForm,
    NewUserForm,
    PasswordResetForm,
    RoleSettingsForm,
    TextSizeForm,
    UserForm,
)
from ecabinet.accounts.models import Role, User
from ecabinet.accounts.service import AccountError, UserData
from ecabinet.audit import words as audit_words
from ecabinet.core import sealing
from ecabinet.core.actor import Actor, current_actor
from ecabinet.core.policy import guard, public
from ecabinet.extensions import db, limiter
from ecabinet.organisations.forms import organisation_choices

bp = Blueprint("accounts", __name__)

PENDING_KEY = "pending_login"
PENDING_SECONDS = 300


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never an absolute URL or a scheme-relative "//host".
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = service.get_user(pending["user_id"])
    return user if user is not None and user.active else None


def _finish_login(user: User, custody_key: bytes | None = None):
    pending = session.get(PENDING_KEY, {})
    target = _safe_next(pending.get("next") or request.args.get("next"))
    if custody_key is None and pending.get("custody"):
        custody_key = sealing.unb64(pending["custody"])
    sign_in(Actor(user, request.remote_addr), user, request.user_agent.string, custody_key)
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            check = service.check_password(current_actor(), form.email.data, form.password.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
            return render_template("accounts/login.html", form=form), 401
        assert check.user is not None
        if check.needs_totp or check.needs_totp_enrolment:
            session[PENDING_KEY] = {"user_id": check.user.id, "at": time.time(),
                                    "next": request.args.get("next"),
                                    "custody": sealing.b64(check.custody_key) if check.custody_key else None}
            return redirect(url_for("accounts.login_code" if check.needs_totp else "accounts.login_enrol"))
        return _finish_login(check.user, check.custody_key)
    if request.method == "POST":
        # Empty or over-long fields: refused by the form, and audited like any failed sign-in.
        service.record_invalid_login(current_actor(), sorted(form.errors))
        return render_template("accounts/login.html", form=form), 400
    return render_template("accounts/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login_code():
    user = _pending_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            service.check_second_factor(current_actor(), user, form.code.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
            return render_template("accounts/login_code.html", form=form), 401
        return _finish_login(user)
    return render_template("accounts/login_code.html", form=form)


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login_enrol():
    """Two-factor sign-in is mandatory for this user's role and not yet set up: set it up now."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    secret = session.setdefault("pending_totp_secret", service.new_totp_secret())
    form = CodeForm()
    if form.validate_on_submit():
        try:
            service.enable_totp(Actor(user, request.remote_addr), user, secret, form.code.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            session.pop("pending_totp_secret", None)
            return _finish_login(user)
    return render_template("accounts/totp_enrol.html", form=form, secret=secret,
                           uri=service.totp_uri(user, secret), action=url_for("accounts.login_enrol"))


@bp.route("/logout", methods=["POST"])
@guard(policy.signed_in)
def logout():
    sign_out(current_actor())
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


# --- own security ----------------------------------------------------------------------------------

@bp.route("/account", methods=["GET", "POST"])
@guard(policy.can_manage_own_security)
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_own_password(current_actor(), current_user, form.current.data, form.password.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Your password has been changed. Please sign in again."), "info")
            return redirect(url_for("accounts.login"))
    return _account_page(form=form)


def _account_page(status: int = 200, **forms):
    forms.setdefault("form", ChangePasswordForm(formdata=None))
    forms.setdefault("text_form", TextSizeForm(formdata=None, text_size=current_user.text_size))
    return render_template("accounts/account.html", empty=EmptyForm(),
                           totp_required=service.totp_required_for(current_user.role), **forms), status


@bp.route("/account/text-size", methods=["POST"])
@guard(policy.can_manage_own_security)
def account_text_size():
    """Normal or large text on every page; an unknown size is refused with the reason beside the choice."""
    text_form = TextSizeForm()
    if not text_form.validate_on_submit():
        return _account_page(400, text_form=text_form)
    try:
        service.set_text_size(current_user, text_form.text_size.data)
    except AccountError as exc:
        text_form.text_size.errors = [exc.translated()]
        return _account_page(400, text_form=text_form)
    flash(_("Large text is on.") if current_user.text_size == "large" else _("Normal text is on."), "info")
    return redirect(url_for("accounts.account"))


@bp.route("/account/totp", methods=["GET", "POST"])
@guard(policy.can_manage_own_security)
def account_totp():
    secret = session.setdefault("pending_totp_secret", service.new_totp_secret())
    form = CodeForm()
    if form.validate_on_submit():
        try:
            service.enable_totp(current_actor(), current_user, secret, form.code.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            session.pop("pending_totp_secret", None)
            flash(_("Two-factor sign-in is on."), "info")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/totp_enrol.html", form=form, secret=secret,
                           uri=service.totp_uri(current_user, secret), action=url_for("accounts.account_totp"))


@bp.route("/account/totp/disable", methods=["POST"])
@guard(policy.can_manage_own_security)
def account_totp_disable():
    if EmptyForm().validate_on_submit():
        try:
            service.disable_totp(current_actor(), current_user)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("accounts.account"))


# --- administration --------------------------------------------------------------------------------

@audit_words.names.register("user")
def _names_for_audit(ids: Collection[int]) -> Mapping[int, str]:
    """The audit log tells its entries with people's names; it sits below accounts and cannot look them up."""
    return {row.id: row.name for row in db.session.execute(select(User.id, User.name).where(User.id.in_(list(ids))))}


def _folded(text: str | None) -> str:
    """Lower case without diacritics, so that "nguyen van" finds "Nguyễn Văn" and "dung" finds "Dũng"."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _matches(user: User, query: str) -> bool:
    """Every word of the query begins a word of the name, title or organisation ("Văn An" finds "Nguyễn Văn
    An", not "Chánh Văn phòng"), or the query is part of the email address."""
    if query in _folded(user.email):
        return True
    known = set(_folded(" ".join((user.name, user.title or "", user.organisation or ""))).split())
    return all(any(word.startswith(part) for word in known) for part in query.split())


@bp.route("/admin/users")
@guard(policy.can_manage_users)
def users():
    # A cabinet has a few hundred accounts at most: the list is read whole and searched here.
    query = (request.args.get("q") or "").strip()[:100]
    raw_role = (request.args.get("role") or "").strip()
    role = Role(raw_role) if raw_role in {r.value for r in Role} else None
    problem = _("The role filter must be a role from the list.") if raw_role and role is None else None
    found = service.list_users(role)
    if query:
        folded = " ".join(_folded(query).split())
        found = [u for u in found if _matches(u, folded)]
    return render_template("accounts/users.html", users=found, role_labels=ROLE_LABELS,
                           query=query, role=role.value if role else "", problem=problem,
                           filtered=bool(query or role)), 400 if problem else 200


def _user_data(form: UserForm, user: User | None = None) -> UserData:
    # An organisation typed before the list existed (and not linked to it) stays until one is picked.
    typed = user.organisation if user is not None and user.organisation_id is None else ""
    return UserData(email=form.email.data, name=form.name.data, title=form.title.data or "",
                    organisation=typed, organisation_id=form.organisation_id.picked, role=Role(form.role.data))


def _offer_organisations(form: UserForm, user: User | None) -> UserForm:
    form.organisation_id.choices = organisation_choices(keep=user.organisation_id if user else None)
    return form


@bp.route("/admin/users/new", methods=["GET", "POST"])
@guard(policy.can_manage_users)
def user_new():
    form = _offer_organisations(NewUserForm(), None)
    if form.validate_on_submit():
        try:
            user = service.create_user(current_actor(), _user_data(form), form.password.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("User %(name)s created.", name=user.name), "info")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None), 400 if form.errors else 200


def _user_or_404(user_id: int) -> User:
    user = service.get_user(user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@guard(policy.can_manage_users)
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    form = _offer_organisations(UserForm(obj=user) if request.method == "GET" else UserForm(), user)
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit():
        try:
            service.update_user(current_actor(), user, _user_data(form, user))
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Changes saved."), "info")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user, reset=PasswordResetForm(),
                           empty=EmptyForm()), 400 if form.errors else 200


@bp.route("/admin/users/<int:user_id>/deactivate")
@guard(policy.can_manage_users)
def user_confirm_deactivate(user_id: int):
    """Disabling ends every session of the account: the admin confirms it on this page first."""
    user = _user_or_404(user_id)
    if not user.active:
        return redirect(url_for("accounts.users"))
    return render_template("accounts/user_deactivate.html", user=user, empty=EmptyForm())


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@guard(policy.can_manage_users)
def user_set_active(user_id: int):
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    if not active and request.form.get("confirm") != "1":
        # Only the confirmation page's button carries "confirm": anything else asks first.
        return redirect(url_for("accounts.user_confirm_deactivate", user_id=user.id))
    if EmptyForm().validate_on_submit():
        try:
            service.set_active(current_actor(), user, active)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Account enabled.") if user.active else _("Account disabled; its sessions were ended."), "info")
    return redirect(url_for("accounts.users"))


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@guard(policy.can_manage_users)
def user_reset_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            service.reset_password(current_actor(), user, form.password.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Password reset; the user's sessions were ended."), "info")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/roles", methods=["GET", "POST"])
@guard(policy.can_manage_users)
def roles():
    form = RoleSettingsForm()
    current = service.role_settings()
    if form.validate_on_submit():
        for role in Role:
            wanted = bool(getattr(form, role.value).data)
            if wanted != current[role]:
                service.set_totp_required(current_actor(), role, wanted)
        flash(_("Changes saved."), "info")
        return redirect(url_for("accounts.roles"))
    for role in Role:
        getattr(form, role.value).data = current[role]
    return render_template("accounts/roles.html", form=form)
