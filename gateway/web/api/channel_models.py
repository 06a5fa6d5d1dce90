"""Response models of `/api/v1/channels`: a channel's overview (`stockgate channels list --json`) and its
editable settings with their sources (`stockgate channels settings NAME --json`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ReasonRow(BaseModel):
    """One cancellation reason of a marketplace: its verdict under `smart` and whether stock comes back."""

    reason: str
    verdict: str
    restores: bool
    api_codes: list[str]


class JobRun(BaseModel):
    """A channel job's latest run."""

    started_at: str | None
    finished_at: str | None
    ok: bool | None
    detail: str | None = Field(description="the run's outcome (counts) or error, as JSON text")
    summary: str | None = Field(None, description="the same in words: `sent 3, delivered 3, failed 0` or the error")


class JobError(BaseModel):
    """A channel's newest failed job run."""

    job: str
    at: str | None
    detail: str | None = Field(description="the error, as JSON text")
    summary: str | None = Field(None, description="the error's message")


class ChannelOverview(BaseModel):
    """A configured channel with its effective settings (edits over the file), listings and last jobs."""

    name: str
    marketplace: str
    adapter: str
    enabled: bool
    restore_policy: str
    buffer: int
    max_qty: int
    schedules: dict[str, float]
    reason_table: list[ReasonRow]
    listings: dict[str, int]
    unlinked: int
    pending_pushes: int
    last_runs: dict[str, JobRun | None]
    last_error: JobError | None


class ChannelList(BaseModel):
    channels: list[ChannelOverview]


class SettingState(BaseModel):
    """One editable key: its effective value, where it comes from, the file's value, and what it may be."""

    key: str
    value: Any
    source: str
    file_value: Any
    updated_by: str | None
    updated_at: str | None
    description: str
    type: str
    choices: list[str] | None = None
    unit: str | None = None
    more_than: float | None = None
    minimum: int | None = None
    maximum: int | None = None


class SmartReasons(BaseModel):
    """What `smart` does on the channel's marketplace."""

    marketplace: str
    rows: list[ReasonRow]
    note: str


class ChannelSettingsDocument(BaseModel):
    """`stockgate channels settings NAME --json`."""

    channel: str
    marketplace: str
    settings: list[SettingState]
    smart_reasons: SmartReasons
