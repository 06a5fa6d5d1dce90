"""Listings (`/listings`): every listing with its link state and reason, status and pushes, filtered by
channel, state and text and paged along (channel, listing id); and what an operator does there, each as
the CLI does it: link a listing to an item and unlink it (`stockgate listings link|unlink`), mark missing
listings sold or deleted (a checkbox per row, one button: `listings mark`), and run a channel's listing
sync (incremental or full) or push now (`stockgate channels sync|push`)."""

from __future__ import annotations

import json
import threading

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.channel_sync.jobs import ChannelJobs
from gateway.channel_sync.linking import link_listing, unlink_listing
from gateway.channel_sync.listing_views import LISTING_STATES, listings_page
from gateway.channel_sync.listings import mark_listings
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.web import queries
from gateway.web.deps import checked_form, csrf_token, current_user, form_text, get_db, require_role, room_router
from gateway.web.rooms.actions import actor_of, can_act, refusal_status
from gateway.web.templating import message, render, url

router = room_router(dependencies=[Depends(require_role("viewer"))])


def channel_page(request: Request, db: Database, channel: str, page: int, title: str, read):
    """(channels, the rows of one page, whether more follow) or an error page for an unknown channel."""
    channel, per_page = channel.strip(), queries.PER_PAGE
    with db.read() as conn:
        channels = queries.channel_names(conn)
        if channel and channel not in channels:
            return message(request, 404, title, f"no channel {channel!r} (known: {', '.join(channels) or 'none'})")
        rows = read(conn, channel or None)
    return channels, rows[(page - 1) * per_page: page * per_page], len(rows) > page * per_page


LISTINGS_PER_PAGE = 100
DONE = {"link": "Linked: its quantity waits to be pushed (the next push sends it, or press Push now).",
        "unlink": "Unlinked: the listing is pushed nothing more.",
        "mark": "Marked: the listings are settled."}
_JOBS_LOCK = threading.Lock()


def channel_jobs(request: Request) -> ChannelJobs:
    """The web page's channel jobs (adapters built once per app, pushes of a channel serialised)."""
    with _JOBS_LOCK:
        jobs = getattr(request.app.state, "channel_jobs", None)
        if jobs is None:
            jobs = request.app.state.channel_jobs = ChannelJobs(request.app.state.db, request.app.state.settings)
        return jobs


def _configured(request: Request) -> list[str]:
    return [c.name for c in request.app.state.settings.channels]


def _listings_page(request: Request, db: Database, *, channel: str = "", state: str = "", q: str = "",
                   after_channel: str = "", after_listing: str = "", done: str = "", notice: str | None = None,
                   error: str | None = None, status: int = 200):
    channel, state, search = channel.strip(), state.strip(), q.strip()[:100]
    with db.read() as conn:
        channels = queries.channel_names(conn)
        if channel and channel not in channels:
            return message(request, 404, "Listings", f"no channel {channel!r} (known: {', '.join(channels) or 'none'})")
        if state and state not in LISTING_STATES:
            return message(request, 400, "Listings",
                           f"no listing state {state!r} (states: {', '.join(LISTING_STATES)})")
        after = (after_channel, after_listing) if after_channel else None
        page = listings_page(conn, channel or None, state=state or None, search=search, after=after,
                             limit=LISTINGS_PER_PAGE)
    user = current_user(request)
    filters = {"channel": channel, "state": state, "q": search}
    return render(request, "listings/index.html", status_code=status, title="Listings", active="/listings",
                  listings=page.listings, next_after=page.next_after, filters=filters, channel=channel,
                  state=state, search=search, channel_options=[(c, c) for c in channels],
                  state_options=[(s, s) for s in LISTING_STATES], job_channels=[c for c in _configured(request)
                                                                                if not channel or c == channel],
                  can_act=can_act(user), csrf=csrf_token(request) if can_act(user) else None,
                  done=DONE.get(done), notice=notice, error=error, first_page=after is None)


@router.get("/listings")
def listings(request: Request, channel: str = "", state: str = "", q: str = "", after_channel: str = "",
             after_listing: str = "", done: str = "", db: Database = Depends(get_db)):
    return _listings_page(request, db, channel=channel, state=state, q=q, after_channel=after_channel,
                          after_listing=after_listing, done=done)


def _back(form: FormData, done: str) -> RedirectResponse:
    """Back to the listings as they were filtered, with what was done."""
    params = {k: form_text(form, k) for k in ("channel", "state", "q")}
    return RedirectResponse(url("/listings", {**params, "done": done}), status_code=303)


def _refused(request: Request, db: Database, form: FormData, exc: Exception):
    return _listings_page(request, db, channel=form_text(form, "channel"), state=form_text(form, "state"),
                          q=form_text(form, "q"), error=str(exc), status=refusal_status(exc))


@router.post("/listings/link", dependencies=[Depends(require_role("operator"))])
def link(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Link one listing to an item (`stockgate listings link CHANNEL LISTING_ID SKU`)."""
    try:
        with db.write() as conn:
            link_listing(conn, form_text(form, "listing_channel"), form_text(form, "listing_id"),
                         form_text(form, "sku"), actor=actor_of(current_user(request)),
                         location=form_text(form, "listing_location") or None)
    except (NotFoundError, UsageError) as exc:
        return _refused(request, db, form, exc)
    return _back(form, "link")


@router.post("/listings/unlink", dependencies=[Depends(require_role("operator"))])
def unlink(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Unlink one listing from its item (`stockgate listings unlink CHANNEL LISTING_ID`)."""
    try:
        with db.write() as conn:
            unlink_listing(conn, form_text(form, "listing_channel"), form_text(form, "listing_id"),
                           actor=actor_of(current_user(request)), location=form_text(form, "listing_location") or None)
    except (NotFoundError, UsageError) as exc:
        return _refused(request, db, form, exc)
    return _back(form, "unlink")


def _selected(form: FormData) -> list[tuple[str, ...]]:
    """The (channel, listing id[, location]) of every ticked row; each box's value is a JSON pair (or a
    triple, for a listing at a marketplace location)."""
    chosen = []
    for value in form.getlist("listing"):
        try:
            pair = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            pair = None
        if not (isinstance(pair, list) and len(pair) in (2, 3) and all(isinstance(v, str) for v in pair)):
            raise UsageError("a ticked listing is not one this page offered: reload the page and tick it again")
        chosen.append(tuple(pair))
    return chosen


@router.post("/listings/mark", dependencies=[Depends(require_role("operator"))])
def mark(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Mark every ticked missing listing sold or deleted, all or none (`stockgate listings mark`)."""
    try:
        chosen = _selected(form)
        if not chosen:
            raise UsageError("tick the missing listings to mark first")
        with db.write() as conn:
            mark_listings(conn, chosen, form_text(form, "status"), actor=actor_of(current_user(request)))
    except (NotFoundError, UsageError) as exc:
        return _refused(request, db, form, exc)
    return _back(form, "mark")


def run_job(request: Request, name: str, kind: str, form: FormData, db: Database, jobs: ChannelJobs):
    """Run `kind` ("listings" or "push") for channel `name` now and show the listings with what it did."""
    full = form_text(form, "full") == "1"
    try:
        result = jobs.run_now(kind, name, holder=f"web:{current_user(request).name}", full=full,
                              actor=actor_of(current_user(request)))
    except (NotFoundError, UsageError) as exc:
        return _refused(request, db, form, exc)
    what = ("full sync" if full else "sync") if kind == "listings" else "push"
    if not result.ok:
        return _listings_page(request, db, channel=form_text(form, "channel"), state=form_text(form, "state"),
                              q=form_text(form, "q"), error=f"{name}: {what} failed: {result.error}", status=502)
    done = ", ".join(f"{k} {v}" for k, v in result.outcome.items() if isinstance(v, int) and not isinstance(v, bool))
    problems = result.outcome.get("problems") or []
    notice = f"{name}: {what} done: {done}" + (f"; problems: {'; '.join(problems)}" if problems else "")
    return _listings_page(request, db, channel=form_text(form, "channel"), state=form_text(form, "state"),
                          q=form_text(form, "q"), notice=notice)


@router.post("/channels/{name}/sync", dependencies=[Depends(require_role("operator"))])
def sync_now(request: Request, name: str, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
             jobs: ChannelJobs = Depends(channel_jobs)):
    """Sync now (`stockgate channels sync NAME`; the form's `full=1`: `--full`)."""
    return run_job(request, name, "listings", form, db, jobs)


@router.post("/channels/{name}/push", dependencies=[Depends(require_role("operator"))])
def push_now(request: Request, name: str, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
             jobs: ChannelJobs = Depends(channel_jobs)):
    """Push now (`stockgate channels push NAME`)."""
    return run_job(request, name, "push", form, db, jobs)
