from channels.generic.websocket import AsyncWebsocketConsumer
from channels.middleware import BaseMiddleware
from channels.routing import URLRouter
from django.urls import path

TOKENS = {"t-ann": "ann", "t-bob": "bob"}


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        ...  # scope["user"] from the token in the query string
        return await super().__call__(scope, receive, send)


class InboxConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        ...  # refuse anonymous users; greet the others


websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
]
application = TokenAuthMiddleware(URLRouter(websocket_urlpatterns))
