"""``python -m bot.rasa_server run ...``: the ``rasa`` command, after :mod:`bot.rasa_server.fixes`."""

from bot.rasa_server.fixes import apply_all

apply_all()

from rasa.__main__ import main  # noqa: E402 - the fixes go in before Rasa runs

main()
