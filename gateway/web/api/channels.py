"""`/api/v1/channels`: every configured channel as `stockgate channels list --json` shows it, and one
channel's editable settings (restore policy, buffer, cap, schedules) with where each value comes from, as
`stockgate channels settings NAME --json`; an admin edits them with PATCH (`channels set|unset`)."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Depends

from gateway.channel_sync.overrides import editable_channel_settings, patch_channel_settings
from gateway.channel_sync.overview import channel_overview
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.settings import Settings
from gateway.web.api.channel_models import ChannelList, ChannelSettingsDocument
from gateway.web.api.deps import api_router
from gateway.web.api.inventory_models import Refusal
from gateway.web.api.stock import refused
from gateway.web.deps import User, get_db, get_settings, require_role
from gateway.web.rooms.actions import actor_of
from gateway.web.rooms.integrations import known_channel

router = api_router("channels")
REFUSED = {400: {"model": Refusal}, 404: {"model": Refusal}}
PATCH_EXAMPLE = {"restore_policy": "never", "buffer": 2, "max_qty": None}


@router.get("/channels", response_model=ChannelList)
def list_channels(db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    """Every configured channel: its effective settings, the reason table `smart` reads, listings by
    status, unlinked listings, pending pushes, each job's latest run and the newest failed one."""
    with db.read() as conn:
        return {"channels": channel_overview(conn, settings)}


@router.get("/channels/{name}/settings", response_model=ChannelSettingsDocument, responses=REFUSED)
def channel_settings(name: str, db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    """Each editable key: its value, its source ("config file" or "edit by WHO at WHEN"), the file's value,
    its type and allowed values; and the marketplace's reason table for `smart`."""
    try:
        known_channel(settings, name)
        return editable_channel_settings(db, settings, name)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)


@router.patch("/channels/{name}/settings", response_model=ChannelSettingsDocument, responses=REFUSED)
def edit_channel_settings(name: str, changes: dict[str, Any] = Body(..., examples=[PATCH_EXAMPLE]),
                          db: Database = Depends(get_db), settings: Settings = Depends(get_settings),
                          user: User = Depends(require_role("admin"))):
    """Edit keys (a JSON merge patch: `{"key": value}` stores an edit over the file, `{"key": null}` drops
    it so the file's value applies again), all or none, audited with actor `web:NAME` (admin). A bad key
    or value is a 400 naming it, and nothing is changed."""
    try:
        known_channel(settings, name)
        with db.write() as conn:
            patch_channel_settings(conn, settings, name, changes, actor=actor_of(user))
        return editable_channel_settings(db, settings, name)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
