"""Integrations (`/integrations`, `/integrations/{name}`): every channel with its restore policy, buffer,
cap, schedules, last push, last order pull and last error; a channel's page shows each editable value with
its source (the configuration file, or the edit by whom and when) and the marketplace's reason table for
`smart`. An admin edits the values in a form and resets a key to the file's value, as `stockgate channels
set|unset` does (stored in the database, audited with actor `web:NAME`)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.channel_sync.overrides import (EDITABLE_KEYS, ChannelSettingError, editable_channel_settings,
                                            effective_channel_settings, parse_setting, patch_channel_settings)
from gateway.channel_sync.overview import channel_overview
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.web.auth import role_allows
from gateway.web.deps import checked_form, csrf_token, current_user, form_text, get_db, require_role, room_router
from gateway.web.rooms.actions import actor_of, refusal_status
from gateway.settings import Settings
from gateway.web.templating import message, render, url

router = room_router(dependencies=[Depends(require_role("viewer"))])
DONE = {"saved": "Saved: the new values apply now (pushes owed by a new buffer or cap are queued).",
        "reset": "Reset: the configuration file's value applies again.",
        "unchanged": "Nothing changed: every value was already as sent."}


def known_channel(settings: Settings, name: str) -> None:
    """NotFoundError naming the configured channels unless `name` is one."""
    if settings.channel(name) is None:
        known = ", ".join(c.name for c in settings.channels) or "none"
        raise NotFoundError(f"channel {name!r} is not configured (configured: {known})")


def _page_path(name: str) -> str:
    return f"/integrations/{quote(name, safe='')}"


@router.get("/integrations")
def integrations(request: Request, db: Database = Depends(get_db)):
    with db.read() as conn:
        channels = channel_overview(conn, request.app.state.settings)
    return render(request, "integrations/index.html", title="Integrations", active="/integrations",
                  channels=channels)


def _channel_page(request: Request, db: Database, name: str, *, done: str = "", error: str | None = None,
                  status: int = 200, typed: dict | None = None):
    settings = request.app.state.settings
    try:
        known_channel(settings, name)
    except NotFoundError as exc:
        return message(request, 404, "Integrations", str(exc))
    document = editable_channel_settings(db, settings, name)
    with db.read() as conn:
        overview = next(c for c in channel_overview(conn, settings) if c["name"] == name)
    user = current_user(request)
    admin = user is not None and role_allows(user.role, "admin")
    return render(request, "integrations/channel.html", status_code=status, title=f"Integration {name}",
                  active="/integrations", channel=overview, document=document, can_edit=admin,
                  csrf=csrf_token(request) if admin else None, done=DONE.get(done), error=error,
                  typed=typed or {})


@router.get("/integrations/{name}")
def integration(request: Request, name: str, done: str = "", db: Database = Depends(get_db)):
    return _channel_page(request, db, name, done=done)


def _changed(request: Request, db: Database, name: str, form: FormData) -> dict[str, str]:
    """The form's values that differ from the effective ones (a value that does not parse counts as
    changed, so its refusal is shown): saving an untouched field stores no edit."""
    settings = request.app.state.settings
    effective = {v.key: v.value for v in effective_channel_settings(db, settings, name).values}
    cfg = settings.channel(name)
    changed = {}
    for key in EDITABLE_KEYS:
        if key not in form:
            continue
        raw = form_text(form, key)
        try:
            if parse_setting(cfg, key, raw) == effective[key]:
                continue
        except ChannelSettingError:
            pass
        changed[key] = raw
    return changed


@router.post("/integrations/{name}/settings", dependencies=[Depends(require_role("admin"))])
def save(request: Request, name: str, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Store the edited values, all or none (`stockgate channels set NAME KEY=VALUE ...`)."""
    try:
        known_channel(request.app.state.settings, name)
        changes = _changed(request, db, name, form)
        if not changes:
            return RedirectResponse(url(_page_path(name), {"done": "unchanged"}), status_code=303)
        with db.write() as conn:
            patch_channel_settings(conn, request.app.state.settings, name, changes,
                                   actor=actor_of(current_user(request)))
    except (NotFoundError, UsageError) as exc:
        typed = {k: form_text(form, k) for k in EDITABLE_KEYS if k in form}
        return _channel_page(request, db, name, error=str(exc), status=refusal_status(exc), typed=typed)
    return RedirectResponse(url(_page_path(name), {"done": "saved"}), status_code=303)


@router.post("/integrations/{name}/reset", dependencies=[Depends(require_role("admin"))])
def reset(request: Request, name: str, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Drop the edit of one key: the file's value applies again (`stockgate channels unset NAME KEY`)."""
    try:
        known_channel(request.app.state.settings, name)
        with db.write() as conn:
            patch_channel_settings(conn, request.app.state.settings, name, {form_text(form, "key"): None},
                                   actor=actor_of(current_user(request)))
    except (NotFoundError, UsageError) as exc:
        return _channel_page(request, db, name, error=str(exc), status=refusal_status(exc))
    return RedirectResponse(url(_page_path(name), {"done": "reset"}), status_code=303)
