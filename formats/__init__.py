"""File and message formats with no plan rules: Telegram HTML (check, split) and iCalendar."""
