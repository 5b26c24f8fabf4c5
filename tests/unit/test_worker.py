"""The periodic-job worker: jobs run on their interval, a failing job stops nothing."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from bot import composition
from bot.composition import get_settings
from bot.db import session_scope
from bot.messages.models import Conversation
from bot.settings import SmtpSettings
from bot.worker import JOB_FACTORIES, Job, background_worker, jobs_from


def test_jobs_repeat_and_a_failing_job_does_not_stop_the_others() -> None:
    runs: list[float] = []
    three = threading.Event()

    def count() -> int:
        runs.append(time.monotonic())
        if len(runs) >= 3:
            three.set()
        return len(runs)

    def broken() -> None:
        raise RuntimeError("database down")

    worker = background_worker(
        [Job("count", timedelta(seconds=0.1), count), Job("broken", timedelta(seconds=0.1), broken)]
    )
    worker.start()
    try:
        assert three.wait(timeout=10), "the job did not repeat"
    finally:
        worker.stop()
    assert worker.run_once() == {"count": len(runs), "broken": None}


def test_the_default_jobs(app_env) -> None:
    settings = get_settings()
    assert [j.name for j in jobs_from(settings)] == ["privacy-purge"]  # no SMTP: no delivery job
    assert jobs_from(settings)[0].every == timedelta(minutes=settings.privacy.purge_interval_minutes)
    with_smtp = dataclasses.replace(settings, smtp=SmtpSettings(host="127.0.0.1"))
    assert [j.name for j in jobs_from(with_smtp)] == ["privacy-purge", "outbox-delivery"]
    assert len(JOB_FACTORIES) >= 2  # new jobs register with @job_factory


def test_the_purge_job_erases_expired_conversations(app_env) -> None:
    url = composition.database_url()
    log = composition.message_log()
    log.record("old-conversation-000000000001", "customer", "hello")
    log.record("new-conversation-000000000001", "customer", "hello")
    with session_scope(url) as session:
        session.get(Conversation, "old-conversation-000000000001").last_activity_at = (
            datetime.utcnow() - timedelta(days=get_settings().privacy.retention_days + 1)
        )
    [purge] = jobs_from(get_settings())
    assert purge.run()["conversations"] == 1
    with session_scope(url) as session:
        assert list(session.scalars(select(Conversation.id))) == ["new-conversation-000000000001"]
