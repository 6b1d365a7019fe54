"""Exception types. Expected outcomes (miss, bad path) are returned by views, not raised."""


class SymbolsrvError(Exception):
    """Base class for errors symbolsrv reports to an operator."""


class ConfigurationError(SymbolsrvError):
    """A setting is missing or malformed; raised before any socket opens."""


class BadPath(SymbolsrvError):
    """The request path can never name a symbol; the message is the one-line 400 reason."""


class StorageError(SymbolsrvError):
    """A location could not answer "is this key here" (timeout, refused, 5xx, denied).

    This is never the same as "absent": the chain turns it into a 503, not a 404.
    """

    def __init__(self, location: str, original: BaseException | str):
        self.location = location
        self.original = original
        super().__init__(f"{location}: {original}")


class StorageUnavailable(SymbolsrvError):
    """No location had the key and at least one failed: the honest answer is 503."""

    def __init__(self, failed: list[str]):
        self.failed = failed
        super().__init__("storage unavailable: " + ", ".join(failed))
