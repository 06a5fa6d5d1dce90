"""What the channels package raises on purpose, split by what can fix it.

    ChannelError                  a channel call failed
    ├── RetryableChannelError     a later attempt may succeed (timeouts, outages, rate limits)
    └── PermanentChannelError     the same call would fail again (refused credentials, bad request)
    ChannelConfigError            the channel's own state on disk cannot be used (`StateFileError`): only
                                  a person's fix helps; the gateway raises it again as its ConfigError

Adapters translate their transport's errors at the boundary (`raise RetryableChannelError(...) from exc`);
the gateway translates these in turn where it calls an adapter (`gateway.channel_sync.adapters`).
"""


class ChannelError(Exception):
    """A channel call failed."""


class RetryableChannelError(ChannelError):
    """A failure a later attempt may not hit: a timeout, an outage, a rate limit."""


class PermanentChannelError(ChannelError):
    """A failure the same call would hit again: refused credentials, a malformed request."""


class ChannelConfigError(Exception):
    """A channel's local state or setup that cannot be used as it is; the message says what to fix."""
