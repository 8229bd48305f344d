"""The one exception hierarchy of lossdb; `cli` and `dashboard` turn these into one sentence."""


class LossdbError(Exception):
    """A problem the user can fix; its message is one sentence that says how."""


class ConfigError(LossdbError):
    """An experiment definition (TOML file, CLI option, name) is invalid."""


class DataError(LossdbError):
    """A dataset cannot be loaded or prepared (bad CSV, unknown name, impossible split)."""


class LossError(LossdbError):
    """An invalid loss, head or loss parameter."""


class StoreError(LossdbError):
    """The database cannot be opened, read or written."""


class SchemaOutdatedError(StoreError):
    """The database's schema is older than this lossdb; the message names the upgrade command."""
