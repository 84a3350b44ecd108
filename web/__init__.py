"""The public progress website: the plan, its indicators' progress, events and newsletters."""

from web.site import Site, add_site_routes, build_site_app

__all__ = ["Site", "add_site_routes", "build_site_app"]
