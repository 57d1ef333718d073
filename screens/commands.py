"""Command palette: open any playbook by name from any screen."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class PlaybookCommands(Provider):
    """'Open: <playbook title>' for every playbook that site."""

    def _playbooks(self):
        catalog = getattr(self.app, "catalog", None)
        return list(catalog) if catalog is not None else []

    async def discover(self) -> Hits:
        for pb in self._playbooks():
            yield DiscoveryHit(
                f"Open: {pb.title}", partial(self.app.open_playbook, pb.id), help=pb.summary
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for pb in self._playbooks():
            text = f"Open: {pb.title}"
            score = max(matcher.match(text), matcher.match(pb.id) * 0.9)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self.app.open_playbook, pb.id),
                    help=pb.summary,
                )
