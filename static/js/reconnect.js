// One WebSocket that comes back by itself: after a close it reconnects with exponential backoff and jitter,
// so a server restart or a lost Redis does not send every page back at the same instant.
const FIRST_DELAY_MS = 500;
const LONGEST_DELAY_MS = 15000;

export function retryDelay(attempt) {
  return Math.min(LONGEST_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt) * (0.5 + Math.random());
}

// `final` lists the close codes that retrying cannot fix (not signed in, forbidden): no retry after those.
export function connectWithRetry(path, { onOpen, onMessage, onClose, final = [] }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const connection = { socket: null };
  const open = (attempt) => {
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    connection.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      onOpen?.(socket);
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      const retrying = !final.includes(event.code);
      onClose?.(event, retrying);
      if (!retrying) return;
      const failedInARow = opened ? 0 : attempt;  // a socket that opened starts the backoff afresh
      setTimeout(() => open(failedInARow + 1), retryDelay(failedInARow));
    });
  };
  open(0);
  return connection;
}
