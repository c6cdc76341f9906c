"""What every `newsticker` command shares: the settings, the app, one unit of work.

Feature packages define their commands at module level with these decorators and list
them in `COMMANDS`; `newsticker.cli` adds them to the `newsticker` group. Living in core,
this lets `subscribers` have commands without importing anything above core.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask

from newsticker.config import ConfigError, Settings, load_settings
from newsticker.core.errors import UserError
from newsticker.core.unit_of_work import app_unit_of_work

F = TypeVar("F", bound=Callable[..., Any])


AppFactory = Callable[[Settings], Flask]


class Context:
    """What every command shares: where the config is, and how to build the app.

    The app factory is handed in by `newsticker.cli` (the composition root), so core
    never imports the application package above it.
    """

    def __init__(self, config_path: str | None, app_factory: AppFactory) -> None:
        self.config_path = config_path
        self.app_factory = app_factory
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        """Load the settings once, stopping with the config error if they are bad."""
        if self._settings is None or overrides:
            try:
                self._settings = load_settings(self.config_path, overrides=overrides or None)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    def app(self, **overrides: Any) -> Flask:
        """Build the Flask app from the settings."""
        try:
            return self.app_factory(self.settings(**overrides))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc


pass_context = click.make_pass_decorator(Context)


def with_app(func: F) -> F:
    """Give the command an app and a session inside one unit of work.

    The command flushes; the work is committed when it returns and the mail it queued
    goes out after the commit. A refusal (UserError) becomes a clean error message.
    """

    @functools.wraps(func)
    @pass_context
    def wrapper(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        app = ctx.app()
        try:
            with app_unit_of_work(app) as session:
                return func(app, session, *args, **kwargs)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
