"""Widgets shared by the screens: the site bar and the time chart."""

from screens.widgets.sitebar import STATUS_GLYPH, STATUS_STYLE, SiteBar

__all__ = ["STATUS_GLYPH", "STATUS_STYLE", "SiteBar"]
