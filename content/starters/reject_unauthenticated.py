# Reject unauthenticated: two ways of turning a client away in connect().
# Connect to /ws/private/?token=letmein as a logged-in user to be welcomed.
# No user, or an anonymous one: the handshake is refused (HTTP 403, via DenyConnection).
# Logged in but a wrong or missing token: accepted, then closed with code 4003.
from urllib.parse import parse_qs

from channels.exceptions import DenyConnection
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

EXPECTED_TOKEN = "letmein"


class PrivateConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            # Before accept(), any close is a refused handshake: a close code
            # chosen here would never reach the client, so just deny.
            raise DenyConnection("login required")

        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        if query.get("token") != [EXPECTED_TOKEN]:
            # Accept first so that the close frame, carrying 4003, reaches the client.
            await self.accept()
            await self.close(code=4003)
            return

        await self.accept()
        name = getattr(user, "username", "") or "friend"
        await self.send(text_data=f"welcome, {name}")

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=f"private echo: {text_data}")


websocket_urlpatterns = [
    path("ws/private/", PrivateConsumer.as_asgi()),
]
