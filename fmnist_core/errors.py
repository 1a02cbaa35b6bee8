"""The errors a user can cause: each message says what to do. The CLI prints one line for them, the app
one st.error line; anything else is a bug and keeps its traceback."""


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


class DataError(RuntimeError):
    """The dataset cannot be found or its files are damaged."""


class RunError(RuntimeError):
    """A run is missing, damaged, busy or cannot be named that way."""


class ImageError(ValueError):
    """The input is not an image we can use; the message says what to do."""


USER_ERRORS = (ConfigError, DataError, RunError, ImageError)
