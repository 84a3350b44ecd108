"""The monthly newsletter of measure 2.1.3, in one room.

compose: what goes in an issue, as Telegram HTML · issue: storing an issue one way, and the
activity it counts as · delivery: the engine that sends it to every subscriber
once · board: the progress board of a send · keyboards: its buttons and callback data · job: the
workflow coordinators, the schedule and the CLI share.
"""
