from channels.generic.websocket import AsyncWebsocketConsumer
from channels.middleware import BaseMiddleware
from channels.routing import URLRouter
from django.urls import path

TOKENS = {"t-ann": "ann", "t-bob": "bob"}


class TokenUser:
    is_authenticated = True

    def __init__(self, username):
        self.username = username


class Anonymous:
    is_authenticated = False
    username = ""


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        query = scope.get("query_string", b"").decode()
        username = TOKENS.get(query.split("=", 1)[1] if "=" in query else "")
        scope = dict(scope, user=TokenUser(username) if username else Anonymous())
        return await super().__call__(scope, receive, send)


class InboxConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.close()  # before accept(): the handshake is refused
            return
        await self.accept()
        await self.send(text_data=f"hello {self.user.username}")

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=f"{self.user.username}: {text_data}")


websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
]
application = TokenAuthMiddleware(URLRouter(websocket_urlpatterns))
