# Sync chat: the chat room written as a synchronous WebsocketConsumer.
# Connect two clients to /ws/sync-chat/lobby/ (letters, digits, - and _ only)
# and send text from one: every client in the room receives "<text>".
# Channel-layer methods are coroutines, so each call is wrapped in async_to_sync.
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from django.urls import path


class SyncChatConsumer(WebsocketConsumer):
    def connect(self):
        room = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"sync_chat_{room}"
        async_to_sync(self.channel_layer.group_add)(self.room_group_name, self.channel_name)
        self.accept()

    def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        async_to_sync(self.channel_layer.group_send)(
            self.room_group_name, {"type": "chat.message", "text": text_data}
        )

    def chat_message(self, event):
        self.send(text_data=event["text"])

    def disconnect(self, code):
        async_to_sync(self.channel_layer.group_discard)(
            self.room_group_name, self.channel_name
        )


websocket_urlpatterns = [
    path("ws/sync-chat/<slug:room_name>/", SyncChatConsumer.as_asgi()),
]
