"""Widgets shared by the screens: the site bar, the footer and the time chart."""

from screens.widgets.footer import KeyFooter
from screens.widgets.sitebar import STATUS_GLYPH, STATUS_STYLE, SiteBar

__all__ = ["STATUS_GLYPH", "STATUS_STYLE", "KeyFooter", "SiteBar"]
