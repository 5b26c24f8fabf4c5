"""``python -m bot.rasa_server run ...``: the ``rasa`` command, after :mod:`bot.rasa_server.fixes`,
with its API token taken from the environment (:mod:`bot.rasa_server.token`)."""

import os
import sys

from bot.rasa_server.fixes import apply_all
from bot.rasa_server.token import with_token_from_environment

sys.argv[1:] = with_token_from_environment(sys.argv[1:], os.environ)
apply_all()

from rasa.__main__ import main  # noqa: E402 - the fixes go in before Rasa runs

main()
