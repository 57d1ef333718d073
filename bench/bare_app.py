"""The baseline for bench/startup.py: a bare Textual app with one Input and a Footer."""

import os
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Input


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="What do you see?")
        yield Footer()

    def on_ready(self) -> None:
        marker = os.environ.get("FIXMAP_BENCH_FIRST_FRAME")
        if marker:
            Path(marker).write_text(repr(time.time()), encoding="utf-8")
            self.exit()


if __name__ == "__main__":
    Bare().run()
