"""Widgets shared by the screens: the site bar, the footer and the time chart."""

from screens.widgets.cells import cell
from screens.widgets.footer import KeyFooter
from screens.widgets.sitebar import SiteBar

__all__ = ["KeyFooter", "SiteBar", "cell"]
