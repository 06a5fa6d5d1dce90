"""`/api/v1/listings` and `/api/v1/channels/{name}/sync|push`: listings filtered and paged, and what an
operator does with them, each through the function the CLI calls (`stockgate listings link|unlink|mark`,
`stockgate channels sync|push`)."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, Query

from gateway.channel_sync.jobs import ChannelJobs
from gateway.channel_sync.linking import link_listing, unlink_listing
from gateway.channel_sync.listing_views import PAGE_LIMIT, listings_page
from gateway.channel_sync.listings import mark_listings
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.web.api.deps import api_router
from gateway.web.api.inventory_models import (JobResult, LinkBody, Listing, ListingRef, ListingsPage, MarkBody,
                                              MarkResult, Refusal)
from gateway.web.api.stock import refused
from gateway.web.deps import User, get_db, require_role
from gateway.web.rooms.actions import actor_of
from gateway.web.rooms.listings import channel_jobs

router = api_router("listings")
REFUSED = {400: {"model": Refusal}, 404: {"model": Refusal}, 409: {"model": Refusal}}
State = Literal["linked", "unlinked", "missing", "sold", "deleted"]


@router.get("/listings", response_model=ListingsPage, responses=REFUSED)
def list_listings(channel: str | None = Query(None, max_length=100), state: State | None = None,
                  q: str = Query("", max_length=100), after_channel: str | None = Query(None, max_length=100),
                  after_listing: str = Query("", max_length=200), limit: int = Query(100, ge=1, le=PAGE_LIMIT),
                  db: Database = Depends(get_db)):
    """Listings of one channel or all, in one state (linked and unlinked: active ones) or any, whose SKU or
    listing id holds `q`; `limit` at a time after (`after_channel`, `after_listing`): the last `next_after`."""
    after = (after_channel, after_listing) if after_channel is not None else None
    try:
        with db.read() as conn:
            page = listings_page(conn, channel, state=state, search=q, after=after, limit=limit)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return {"listings": page.listings, "next_after": page.next_after}


@router.post("/listings/link", response_model=Listing, responses=REFUSED)
def link(body: LinkBody, db: Database = Depends(get_db), user: User = Depends(require_role("operator"))):
    """Link an active listing to the item `sku`; its quantity is owed a push at once. 409 with `code`
    SIZE_MISMATCH or CHANNEL_ALREADY_LINKED when the listing rules refuse (nothing changed)."""
    try:
        with db.write() as conn:
            return link_listing(conn, body.channel, body.listing_id, body.sku, actor=actor_of(user),
                                location=body.location)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)


@router.post("/listings/unlink", response_model=Listing, responses=REFUSED)
def unlink(body: ListingRef, db: Database = Depends(get_db), user: User = Depends(require_role("operator"))):
    """Unlink a linked listing (reason UNLINKED_BY_OPERATOR): it is pushed nothing more."""
    try:
        with db.write() as conn:
            return unlink_listing(conn, body.channel, body.listing_id, actor=actor_of(user), location=body.location)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)


@router.post("/listings/mark", response_model=MarkResult, responses=REFUSED)
def mark(body: MarkBody, db: Database = Depends(get_db), user: User = Depends(require_role("operator"))):
    """Settle missing listings as `sold` or `deleted`: all of them, or (one is not missing, or unknown)
    none, with the refusal naming it."""
    try:
        with db.write() as conn:
            marked = mark_listings(conn, [(r.channel, r.listing_id, r.location) for r in body.listings], body.status,
                                   actor=actor_of(user))
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return {"listings": marked}


def _job(jobs: ChannelJobs, kind: str, name: str, user: User, full: bool):
    try:
        result = jobs.run_now(kind, name, holder=f"web:{user.name}", full=full, actor=actor_of(user))
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return {"job": result.job, "channel": result.channel, "ok": result.ok, "outcome": result.outcome,
            "error": result.error}


@router.post("/channels/{name}/sync", response_model=JobResult, responses=REFUSED)
def sync(name: str, full: bool = False, jobs: ChannelJobs = Depends(channel_jobs),
         user: User = Depends(require_role("operator"))):
    """Run the channel's listing sync now (`?full=true`: every listing; those gone become missing), as
    `stockgate channels sync NAME [--full] --json`; a failed run is `ok` false with its `error`."""
    return _job(jobs, "listings", name, user, full)


@router.post("/channels/{name}/push", response_model=JobResult, responses=REFUSED)
def push(name: str, jobs: ChannelJobs = Depends(channel_jobs), user: User = Depends(require_role("operator"))):
    """Push the channel's quantities now (what differs from the last pushed), as `stockgate channels push`."""
    return _job(jobs, "push", name, user, False)
