"""A channel's credentials, read from the environment variable or the file its options name, never the TOML.

`credential(options, "client_secret", key)` reads `client_secret_env` (an environment variable's name) or
`client_secret_file` (a file holding the value, surrounding white space stripped). A value written into
the TOML itself (`client_secret = "..."`), a variable not set, or a file that cannot be read is a
ConfigError naming the key, and never shows the value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from gateway.errors import ConfigError


def credential(options: Mapping[str, Any], name: str, key: str, *, base_dir: Path | None = None) -> str:
    """The credential `name` of a channel whose options key is `key` (`stockgate.toml: channels[0].options`)."""
    if name in options:
        raise ConfigError(f"{key}.{name}: a credential is never written in the configuration file; name an "
                          f"environment variable ({name}_env) or a file ({name}_file) that holds it")
    env, file = options.get(f"{name}_env"), options.get(f"{name}_file")
    if env and file:
        raise ConfigError(f"{key}: set {name}_env or {name}_file, not both")
    if env:
        if not isinstance(env, str):
            raise ConfigError(f"{key}.{name}_env: must be the name of an environment variable, got {env!r}")
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError(f"{key}.{name}_env: environment variable {env} is not set (it holds the {name})")
        return value
    if file:
        path = Path(str(file)).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{key}.{name}_file: cannot read {path} ({exc.strerror})") from None
        if not value:
            raise ConfigError(f"{key}.{name}_file: {path} is empty (it should hold the {name})")
        return value
    raise ConfigError(f"{key}.{name}_env: required (the environment variable holding the {name}; or set "
                      f"{name}_file to a file holding it)")
