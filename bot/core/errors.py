"""Domain errors. Each carries the sentence a person should read; nothing here imports discord."""

from __future__ import annotations


class DigestBotError(Exception):
    """An expected failure whose message is safe and useful to show to a user as is.

    The message may be a template with `{placeholders}` filled from `values`: the English text is
    `message`, and the reply is translated from `template` (bot/i18n.py) with the same values.
    """

    def __init__(self, message: str, **values: object) -> None:
        self.template = message
        self.values = values
        self.message = message.format(**values) if values else message
        super().__init__(self.message)

    def __reduce__(self) -> tuple[object, ...]:
        # Template and values survive pickling (an error raised in the worker process reaches the
        # bot whole, still translatable), whatever the subclass's own constructor takes.
        return _rebuild, (type(self), self.template, self.values, self.__dict__)


def _rebuild(cls: type[DigestBotError], template: str, values: dict[str, object],
             state: dict[str, object]) -> DigestBotError:
    error = cls.__new__(cls)
    DigestBotError.__init__(error, template, **values)
    error.__dict__.update(state)
    return error


class DigestError(DigestBotError):
    """A digest file that cannot be parsed; names the file and what is wrong with it."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ConfigError(DigestBotError):
    """A setting that is missing or malformed; names the setting and how to fix it."""


class InvalidInput(DigestBotError):
    """A command argument the user typed that cannot be understood."""


class NotFound(DigestBotError):
    """Something the user asked for does not exist."""


class LimitReached(DigestBotError):
    """A per-user or per-server limit would be exceeded."""


class PermissionMissing(DigestBotError):
    """The bot or the member lacks a Discord permission the action needs."""
