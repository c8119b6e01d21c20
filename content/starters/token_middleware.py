# Token middleware: a custom middleware authenticates WebSocket clients by an API token.
# Connect to /ws/feed/ with the query token=tok-ana (may read and post) or token=tok-bot
# (read only) and send text: every reader receives "<user>: <text>". A missing or
# unknown token is refused with HTTP 403. The middleware also adds scope["token_scopes"].
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.middleware import BaseMiddleware
from django.urls import path

# Stands in for a database table of API tokens: token -> (username, scopes).
TOKENS = {
    "tok-ana": ("ana", {"read", "post"}),
    "tok-bot": ("statusbot", {"read"}),
}


class TokenUser:
    is_authenticated = True

    def __init__(self, username):
        self.username = username


class NoUser:
    is_authenticated = False
    username = ""


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        found = await self.find_token(token)
        if found is None:
            scope["user"], scope["token_scopes"] = NoUser(), frozenset()
        else:
            scope["user"], scope["token_scopes"] = TokenUser(found[0]), frozenset(found[1])
        print("middleware: the scope now holds", scope["user"].username or "no user")
        return await super().__call__(scope, receive, send)

    async def find_token(self, token):
        # A real project awaits a database lookup here, via database_sync_to_async.
        return TOKENS.get(token)


class FeedConsumer(AsyncWebsocketConsumer):
    group = "feed"

    async def connect(self):
        if not self.scope["user"].is_authenticated:
            await self.close()
            return
        self.username = self.scope["user"].username
        self.can_post = "post" in self.scope["token_scopes"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        if not self.can_post:
            await self.send(text_data="this token may only read")
            return
        await self.channel_layer.group_send(
            self.group, {"type": "feed.post", "text": f"{self.username}: {text_data[:200]}"}
        )

    async def feed_post(self, event):
        await self.send(text_data=event["text"])

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)


websocket_urlpatterns = [
    path("ws/feed/", TokenAuthMiddleware(FeedConsumer.as_asgi())),
]
