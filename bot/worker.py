"""``python -m bot worker``: periodic jobs, run by APScheduler in one long-lived process.

A job is a name, an interval and a function. ``JOB_FACTORIES`` builds the jobs from the
settings; a factory returns None when its job does not apply (e.g. no SMTP server).
A new periodic task (say, timing out unclaimed handoffs) is one more factory,
added with ``@job_factory``. Every job is idempotent, so a second worker process or a
run after a crash does no harm, and a failing job is logged and retried next time
without stopping the others.
"""

from __future__ import annotations

import logging
import os
import signal
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)  # APScheduler 3.9 imports it
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from apscheduler.schedulers.base import BaseScheduler  # noqa: E402
from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: E402
from apscheduler.triggers.interval import IntervalTrigger  # noqa: E402

from bot.settings import Settings  # noqa: E402

if TYPE_CHECKING:
    from bot.channels.email.imap import MailPoller
    from bot.composition import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], Any]


JobFactory = Callable[[Settings], Job | None]
JOB_FACTORIES: list[JobFactory] = []


def job_factory(factory: JobFactory) -> JobFactory:
    """Register a factory; the worker builds its job at start-up."""
    JOB_FACTORIES.append(factory)
    return factory


@job_factory
def privacy_purge(settings: Settings) -> Job:
    def run() -> dict[str, int]:
        from bot import composition

        return composition.privacy_service().purge_expired().counts

    return Job("privacy-purge", timedelta(minutes=settings.privacy.purge_interval_minutes), run)


@job_factory
def outbox_delivery(settings: Settings) -> Job | None:
    from bot.shop.mailer import deliver_outbox

    smtp = settings.smtp
    if smtp is None:
        return None

    def run() -> int:
        from bot import composition

        return deliver_outbox(
            composition.database_url(), smtp, composition.secret(), shop=settings.shop
        )

    return Job("outbox-delivery", timedelta(minutes=1), run)


@job_factory
def unclaimed_handoffs(settings: Settings) -> Job | None:
    """Queued handoffs nobody claimed in time become email tickets; the customer is told.

    Only with Redis: the notice must be pushed to the customer's widget, and only
    Redis carries this process's pushes to the gateways. Without Redis the gateway
    runs the same sweep itself (bot.cli.serve). Either way the queued -> ticket
    change is one conditional UPDATE, so concurrent sweeps tell each customer once.
    """
    if not settings.realtime.redis_url:
        return None

    def run() -> int:
        from bot import composition
        from bot.handoff.tickets import UnclaimedSweep

        services = composition.services()
        return len(UnclaimedSweep(services.handoff, services.messages, services.mail_delivered).run_once())

    return Job("unclaimed-handoffs", timedelta(seconds=settings.handoff.unclaimed_check_seconds), run)


def email_poller(services: Services) -> MailPoller | None:
    """The IMAP poller of the email channel, with a relay of its own (None: email is off)."""
    from bot.channels.email import EmailChannel
    from bot.channels.email.imap import MailPoller
    from bot.channels.inbound import ChannelInbound
    from bot.messages.models import Channel
    from bot.messages.relay import Relay

    settings = services.settings
    channel = services.channels.get(Channel.EMAIL)
    if settings.email is None or not isinstance(channel, EmailChannel):
        return None

    def mode_changed(conversation_id: str, mode: str) -> None:
        services.messages.publish_mode(conversation_id, mode)
        services.handoff.announce(conversation_id)

    relay = Relay(
        services.messages,
        services.rasa,
        node=f"email-poller-{os.getpid()}",
        stale_after=settings.realtime.relay_stale_seconds,
        on_mode_change=mode_changed,
    )
    inbound = ChannelInbound(
        services.messages, services.handoff, relay, timedelta(minutes=settings.sessions.idle_minutes)
    )
    return MailPoller(
        settings.email, channel, inbound, services.limits.channel_per_thread.allow, services.attachments
    )


def poll_email(services: Services) -> dict[str, Any]:
    """Read the mailbox once, then send the replies now (the gateway's sweep would, later)."""
    poller = email_poller(services)
    if poller is None:
        return {"email": "off"}
    result = poller.poll_once()
    sent = services.outbound.deliver_due()
    return {"stored": result.stored, "duplicates": result.duplicates, "refused": result.refused,
            "deferred": result.deferred, "replies_sent": sent}


@job_factory
def email_polling(settings: Settings) -> Job | None:
    if settings.email is None or "email" not in settings.channels:
        return None

    def run() -> dict[str, Any]:
        import imaplib

        from bot import composition

        try:
            return poll_email(composition.services())
        except (OSError, imaplib.IMAP4.error) as exc:  # the mailbox is down: tried again next time
            log.warning("email: the mailbox cannot be read (%s); tried again in %d s", type(exc).__name__, settings.email.poll_seconds)
            return {"email": "unreachable"}

    return Job("email-polling", timedelta(seconds=settings.email.poll_seconds), run)


def jobs_from(settings: Settings, factories: Iterable[JobFactory] | None = None) -> list[Job]:
    built = (factory(settings) for factory in (JOB_FACTORIES if factories is None else factories))
    return [job for job in built if job is not None]


def _guarded(job: Job) -> Callable[[], Any]:
    def run() -> Any:
        try:
            result = job.run()
        except Exception as exc:  # logged by type only: messages can carry SQL parameters
            log.error("job %s failed (%s); it runs again at its next interval", job.name, type(exc).__name__)
            return None
        log.info("job %s done: %s", job.name, result)
        return result

    return run


class Worker:
    def __init__(self, jobs: Iterable[Job], scheduler: BaseScheduler | None = None) -> None:
        self.jobs = list(jobs)
        self.scheduler = scheduler or BlockingScheduler(timezone=UTC)
        for job in self.jobs:
            self.scheduler.add_job(
                _guarded(job),
                IntervalTrigger(seconds=max(job.every.total_seconds(), 0.05), timezone=UTC),
                id=job.name,
                name=job.name,
                coalesce=True,  # missed runs (machine asleep) collapse into one
                max_instances=1,  # a slow run is never overlapped by the next
                next_run_time=datetime.now(UTC),  # once at start, then every interval
            )

    def run_once(self) -> dict[str, Any]:
        """Every job once, now, in this thread (``python -m bot worker --once``)."""
        return {job.name: _guarded(job)() for job in self.jobs}

    def start(self) -> None:
        if isinstance(self.scheduler, BlockingScheduler):
            signal.signal(signal.SIGTERM, lambda *_: self.scheduler.shutdown(wait=False))
        log.warning("worker: %s", ", ".join(f"{j.name} every {j.every}" for j in self.jobs) or "no jobs")
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def background_worker(jobs: Iterable[Job]) -> Worker:
    """The same jobs on a background thread (tests, or embedding in another process)."""
    return Worker(jobs, BackgroundScheduler(timezone=UTC))
