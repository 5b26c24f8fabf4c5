"""Rasa's API token comes from the environment, never from the command line.

Rasa 3.6 reads it only from ``--auth-token``, and a command line is readable by every
local user (``ps``, /proc/PID/cmdline). So the commands we start leave it out, and
``python -m bot.rasa_server run`` adds it to Rasa's arguments inside its own process
from ``RASA_TOKEN``: changing ``sys.argv`` there changes nothing that ``ps`` shows.
"""

from __future__ import annotations

from collections.abc import Mapping

TOKEN_VARIABLE = "RASA_TOKEN"


class MissingToken(SystemExit):
    pass


def with_token_from_environment(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """Rasa's arguments with ``--auth-token`` from the environment when the HTTP API is on.

    An API without a token would let anyone on the machine read and write every
    conversation, so ``run --enable-api`` without ``RASA_TOKEN`` is refused.
    """
    if not argv or argv[0] != "run" or "--enable-api" not in argv:
        return argv
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        return argv  # given by hand (visible in ps; our own commands never do this)
    token = environ.get(TOKEN_VARIABLE, "")
    if not token:
        raise MissingToken(f"error: set {TOKEN_VARIABLE}: the Rasa HTTP API must not run without a token")
    return [*argv, "--auth-token", token]
