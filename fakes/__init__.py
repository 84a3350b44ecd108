"""Telegram without Telegram: an in-process Bot API session and a fake Bot API server over HTTP.

The session serves `cso-bot chat`; the server serves the end-to-end tests and the benchmarks.
"""
