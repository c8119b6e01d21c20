"""Inside the sandbox: Channels' InMemoryChannelLayer with group operations traced for the visualizer."""

from __future__ import annotations

from typing import Any

from .narration import short
from .tracing import CURRENT_CLIENT


def make_traced_layer(driver: Any) -> Any:
    """A layer instance that reports group_add / group_discard / group_send and tracks delivery for settling."""
    from channels.layers import InMemoryChannelLayer

    tracer = driver.tracer

    async def gate(kind: str, client: Any, action: str) -> None:
        driver.lag.catch_up()
        if driver.pauser.on:
            await driver.pauser.gate(client, kind, action, tracer.learner_method(), tracer.learner_line())
            driver.lag.arm()  # the handler runs on after its step; watch it again

    class TracedChannelLayer(InMemoryChannelLayer):
        """Same behaviour as InMemoryChannelLayer; every group operation also becomes a trace event."""

        async def new_channel(self, prefix: str = "specific.") -> str:
            name = await super().new_channel(prefix)
            client = CURRENT_CLIENT.get()
            if client is not None and client.channel_name is None:
                client.channel_name = name
                driver.channels[name] = client
            return name

        async def receive(self, channel: str) -> dict[str, Any]:
            message = await super().receive(channel)
            client = driver.channels.get(channel)
            if client is not None:
                client.pending += 1
            return message

        def _who(self, channel: str) -> Any:
            return driver.channels.get(channel) or CURRENT_CLIENT.get()

        def _members(self, group: str) -> list[str]:
            channels = self.groups.get(group, {})
            return [driver.channels[c].id if c in driver.channels else c for c in channels]

        async def group_add(self, group: str, channel: str) -> None:
            client = self._who(channel)
            await gate("group_add", client, f"group_add({group!r}, self.channel_name)")
            await super().group_add(group, channel)
            if client is not None and group not in client.groups:
                client.groups.append(group)
            members = self._members(group)
            tracer.trace(
                "group_add", client, method=tracer.learner_method(), line=tracer.learner_line(),
                action=f"group_add({group!r}, self.channel_name)",
                evaluation=f"the channel layer adds {client.id if client else 'the channel'}'s channel to {group!r}",
                result=f"{group!r} now has {len(members)} member(s): {', '.join(members)}",
            )  # fmt: skip

        async def group_discard(self, group: str, channel: str) -> None:
            client = self._who(channel)
            await gate("group_discard", client, f"group_discard({group!r}, self.channel_name)")
            await super().group_discard(group, channel)
            if client is not None and group in client.groups:
                client.groups.remove(group)
            members = self._members(group)
            tracer.trace(
                "group_discard", client, method=tracer.learner_method(), line=tracer.learner_line(),
                action=f"group_discard({group!r}, self.channel_name)",
                evaluation=f"the channel layer removes {client.id if client else 'the channel'}'s channel from {group!r}",
                result=f"{group!r} now has {len(members)} member(s)" + (f": {', '.join(members)}" if members else ""),
            )  # fmt: skip

        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            await gate("group_send", CURRENT_CLIENT.get(), f"group_send({group!r}, {short(message, 80)})")
            members = self._members(group) if isinstance(group, str) else []
            await super().group_send(group, message)
            kind = message.get("type") if isinstance(message, dict) else None
            handler = str(kind).replace(".", "_")
            method, line = tracer.learner_method(), tracer.learner_line()
            tracer.trace(
                "group_send", CURRENT_CLIENT.get(), method=method, line=line,
                action=f"group_send({group!r}, {short(message, 80)})",
                evaluation=f"the layer copies the message to every channel in {group!r}; "
                f"type {kind!r} names the handler {handler}()",
                result=f"queued for {len(members)} consumer(s)" + (f": {', '.join(members)}" if members else ""),
            )  # fmt: skip
            receivers = [driver.channels[c] for c in self.groups.get(group, {}) if c in driver.channels]
            driver.diagnostics.group_send(group, message, receivers, method, line)

    return TracedChannelLayer()
