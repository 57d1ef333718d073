"""Modal dialogs: help, pick, the confirm dialog for every state change, forms, text, yes/no."""

from screens.dialogs.confirm import ConfirmActionDialog, Confirmation
from screens.dialogs.form import FormDialog, params_dialog
from screens.dialogs.help import HelpScreen
from screens.dialogs.pick import PickDialog
from screens.dialogs.text import TextDialog
from screens.dialogs.yes_no import YesNoDialog

__all__ = [
    "ConfirmActionDialog",
    "Confirmation",
    "FormDialog",
    "HelpScreen",
    "PickDialog",
    "TextDialog",
    "YesNoDialog",
    "params_dialog",
]
