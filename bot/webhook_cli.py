"""`cso-bot webhook set|delete|info`: registering the webhook with Telegram is a deploy step.

Workers never call setWebhook at start-up: with several of them behind a proxy, one call from
the operator (after a deploy or a change of WEBHOOK_URL/WEBHOOK_SECRET) is the one that counts.
"""

from __future__ import annotations

import argparse

from bot.config import ConfigError, Settings


def add_cli(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhook = commands.add_parser(
        "webhook", help="the webhook Telegram calls (WEBHOOK_URL, WEBHOOK_SECRET): a deploy step"
    ).add_subparsers(dest="webhook_command", required=True)
    webhook.add_parser("set", help="register WEBHOOK_URL with its secret and the update types")
    delete = webhook.add_parser("delete", help="remove the webhook (polling works again)")
    delete.add_argument(
        "--drop-pending", action="store_true", help="also drop the updates Telegram holds"
    )
    webhook.add_parser("info", help="what Telegram has registered, and its last error")


async def run_cli(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app, build_bot

    bot = build_bot(settings)
    try:
        if args.webhook_command == "set":
            if settings.webhook_url is None or settings.webhook_secret is None:
                raise ConfigError("WEBHOOK_URL and WEBHOOK_SECRET must be set to set the webhook")
            # The update types the bot's routers handle, from the very dispatcher workers run.
            app = await build_app(settings)
            try:
                allowed = app.dispatcher.resolve_used_update_types()
            finally:
                await app.close()
            await bot.set_webhook(
                settings.webhook_url,
                secret_token=str(settings.webhook_secret),
                allowed_updates=allowed,
            )
            print(f"webhook set: {settings.webhook_url} ({', '.join(allowed)})")
        elif args.webhook_command == "delete":
            await bot.delete_webhook(drop_pending_updates=args.drop_pending)
            print("webhook deleted")
        info = await bot.get_webhook_info()
        print(f"url: {info.url or '(none: polling)'}")
        print(f"pending updates: {info.pending_update_count}")
        if info.allowed_updates:
            print(f"allowed updates: {', '.join(info.allowed_updates)}")
        if info.last_error_message:
            print(f"last error: {info.last_error_message} at {info.last_error_date}")
        return 0
    finally:
        await bot.session.close()
