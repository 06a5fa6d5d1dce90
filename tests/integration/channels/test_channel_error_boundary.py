"""Where the gateway calls into channels/, a channel's damaged state file becomes the gateway's ConfigError
(same message): a push stays owed, a job run fails with one line, and the command line exits 2."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channel_helpers import channel_toml
from channels.errors import ChannelConfigError, ChannelError
from channels.state_file import StateFileError
from gateway.channel_sync.pusher import push_channel
from gateway.db import schema
from gateway.errors import ConfigError


def _damaged(ch, channel: str):
    state = ch.settings.data_dir / "sandbox" / f"{channel}.json"
    state.write_text("{broken")
    return state


def test_a_damaged_state_file_is_a_channels_config_error_and_not_a_failed_channel_call():
    assert issubclass(StateFileError, ChannelConfigError)
    assert not issubclass(StateFileError, ChannelError)      # a push never records it as a failed delivery
    assert not issubclass(ChannelConfigError, ConfigError)   # channels/ defines its own errors


def test_a_push_into_a_damaged_state_file_raises_config_error_and_the_push_stays_owed(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT", 5)
    ch.jobs.sync("amz")
    ch.jobs.push_now("amz")
    ch.set("HAT", "MF", 4)
    state = _damaged(ch, "amz")

    with pytest.raises(ConfigError, match="amz.json is not valid JSON") as caught:
        push_channel(ch.jobs.db, "amz", ch.jobs.adapter("amz"))
    assert isinstance(caught.value.__cause__, StateFileError)
    with ch.jobs.db.read() as conn:
        owed = conn.execute(select(schema.push_outbox.c.target_qty, schema.push_outbox.c.attempts)).all()
        results = conn.execute(select(schema.push_results)).all()
    assert [tuple(r) for r in owed] == [(4, 0)] and len(results) == 1      # only the first, good push

    for job in ("listings", "orders", "push"):
        ok, detail = ch.jobs.run(job, "amz", holder="test", log_failures=False)
        assert not ok and detail.startswith(str(state)) and "not valid JSON" in detail, (job, detail)


def test_sandbox_commands_on_a_damaged_state_file_exit_2_with_one_line(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon"))
    (ch.settings.data_dir / "sandbox").mkdir(parents=True, exist_ok=True)
    state = _damaged(ch, "amz")
    for args in (("sandbox", "fail", "amz", "1"), ("sandbox", "order", "amz", "O1", "A1:1"),
                 ("sandbox", "listing", "amz", "L1", "A1", "3"), ("sandbox", "show", "amz")):
        result = stockgate(*args, config=ch.config)
        assert (result.code, result.err.count("\n")) == (2, 1), (args, result)
        assert str(state) in result.err and "not valid JSON" in result.err, (args, result)
