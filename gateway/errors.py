"""The gateway's exception tree, split into what a retry can fix and what it cannot.

    StockGateError
    ├── ConfigError            the configuration is wrong (exit 2, one line naming the key)
    ├── UsageError             a command was asked for something impossible (exit 2)
    ├── PermanentError         retrying will not help (bad data, refused host key, ...)
    │   └── NotFoundError      a named thing (file id, order, channel) does not exist
    └── RetryableError         a later attempt may succeed (network, busy database, channel outage)
"""


class StockGateError(Exception):
    """Base of every error StockGate raises on purpose."""


class ConfigError(StockGateError):
    """The configuration file or environment is invalid."""


class UsageError(StockGateError):
    """A command line asked for something that cannot be done."""


class PermanentError(StockGateError):
    """A failure that the same attempt would hit again."""


class NotFoundError(PermanentError):
    """A named object does not exist."""


class RetryableError(StockGateError):
    """A failure a later attempt may not hit (network, timeouts, locks)."""
