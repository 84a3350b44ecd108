"""A registration and a join request as coordinators see them."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from db.organisations import OrganisationProfile
from db.users import Person
from handlers.people import person
from plan import Plan


def organisation_card(org: OrganisationProfile, plan: Plan) -> str:
    areas = [f"{d.code}. {escape(d.title)}" for d in plan.directions if d.code in set(org.areas)]
    dash = "—"
    return "\n".join(
        [
            _("<b>Organisation registration №{id}</b>").format(id=org.id),
            _("<b>Name:</b> {value}").format(value=escape(org.name)),
            _("<b>ЄДРПОУ:</b> {value}").format(value=escape(org.edrpou or dash)),
            _("<b>Contact person:</b> {value}").format(value=escape(org.contact_person or dash)),
            _("<b>Phone or e-mail:</b> {value}").format(value=escape(org.contact or dash)),
            _("<b>Areas:</b> {value}").format(value="; ".join(areas) or dash),
            _("<b>Registered by:</b> {user}").format(
                user=person(org.registrant) if org.registrant else dash
            ),
        ]
    )


def join_card(requester: Person, organisation_name: str) -> str:
    return _("<b>Join request:</b> {user} asks to join «{name}».").format(
        user=person(requester), name=escape(organisation_name)
    )


def status_word(status: str) -> str:
    return {
        "verified": _("verified"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "pending": _("pending"),
    }.get(status, status)
