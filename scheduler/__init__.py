"""Scheduled work: the APScheduler wiring. Jobs (the newsletter, reminders) arrive with their features."""

from scheduler.wiring import Scheduler, build_scheduler

__all__ = ["Scheduler", "build_scheduler"]
