// Generated from playground/sandbox/shared/protocol.py by
// `python -m playground.protocol_js > static/js/protocol.js`; do not edit by hand.

// Message types (`type`), the same in every layer.
export const RUN = "run";
export const STOP = "stop";
export const PAUSE = "pause";
export const STEP = "step";
export const CLIENT_CONNECT = "client.connect";
export const CLIENT_SEND = "client.send";
export const CLIENT_CLOSE = "client.close";
export const STATUS = "status";
export const LIVE = "live";
export const EVENTS = "events";
export const BATCH = "batch";
export const OUTPUT = "output";
export const ERROR = "error";
export const PAUSED = "paused";
export const RESUMED = "resumed";
export const ATTACH = "attach";
export const ATTACHED = "attached";
export const CONSUMER_ACCEPT = "consumer.accept";
export const CONSUMER_SEND = "consumer.send";
export const CONSUMER_CLOSE = "consumer.close";
export const CONSUMER_REJECT = "consumer.reject";
export const CONSUMER_DROP = "consumer.drop";

// A run's `status` states, a client's connection states in trace rows and their labels, trace row kinds.
export const RUN_STATE = Object.freeze({"STARTING": "starting", "RUNNING": "running", "STOPPED": "stopped"});
export const STATE_LABELS = Object.freeze({"none": "None", "connecting": "Connecting", "accepted": "Accepted", "open": "Open", "closing": "Closing", "closed": "Closed"});
export const KIND = Object.freeze({"CONNECT": "connect", "ACCEPT": "accept", "REJECT": "reject", "RECEIVE": "receive", "SEND": "send", "CLOSE": "close", "DISCONNECT": "disconnect", "GROUP_ADD": "group_add", "GROUP_DISCARD": "group_discard", "GROUP_SEND": "group_send", "HANDLER": "handler", "EXCEPTION": "exception", "OUTPUT": "output", "NOTE": "note"});
