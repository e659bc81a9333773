"""`python -m bench.bot_main`: the bot process of `python -m bench throughput`.

This is `jixiao run` (bot.cli: settings from the environment, migrations at start, logging,
`run_bot` → `build_application` → long polling, the durable inbox, the reminder jobs) with one
change: the rate limiter's pacing is off. In production replies are spaced to stay under
Telegram's flood limits (a burst of 3, then 1 a second per chat; 25 a second overall), which
would measure those limits instead of the bot (one user alone would wait a second a reply).
The limiter itself stays in the path: it wraps every request as in production.

SIGINT stops it as it stops `jixiao run` (PTB's run_polling), so a profiler wrapped around it
(`python -m cProfile -o FILE -m bench.bot_main`) writes its output.
"""

from __future__ import annotations

import sys
from functools import partial

import bot.startup
from bot.cli import main
from bot.ratelimit import Pacing, RetryingRateLimiter

if __name__ == "__main__":
    # run_bot builds the application with `RetryingRateLimiter()`; an unpaced one instead.
    if getattr(bot.startup, "RetryingRateLimiter", None) is not RetryingRateLimiter:
        raise SystemExit("bench.bot_main: bot.startup no longer builds its limiter by that name")
    bot.startup.RetryingRateLimiter = partial(  # type: ignore[misc]
        RetryingRateLimiter, pacing=Pacing.off()
    )
    sys.exit(main(["run"]))
