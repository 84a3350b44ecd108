"""Scheduled work: the APScheduler wiring; jobs arrive with their features."""

from scheduler.wiring import Scheduler, build_scheduler

__all__ = ["Scheduler", "build_scheduler"]
