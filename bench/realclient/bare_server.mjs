// The baseline for bench/bench_live_real.py: a bare Socket.IO server in Node that answers the same
// events as e-Cabinet's live room ("join", whose answer carries the ballots list, "vote.list", "chair.set_item") with nothing behind them, and
// broadcasts the same payload to the same room. Its settings are socket.io's defaults (per-message
// compression off), unless BARE_DEFLATE=1 asks for compression of every message, as wsproto does.
//
//   BARE_PAYLOAD='{"type":"agenda.current_item",...}' node bare_server.mjs   → prints {"port": N}
import { createServer } from "node:http";
import { Server } from "socket.io";

const deflate = process.env.BARE_DEFLATE === "1";
const payload = JSON.parse(process.env.BARE_PAYLOAD || '{"type":"agenda.current_item"}');

const httpServer = createServer();
// threshold 0: wsproto compresses every message; ws's default (1,024 bytes) would leave the
// room's small events uncompressed and make this control measure nothing.
const io = new Server(httpServer, { perMessageDeflate: deflate ? { threshold: 0 } : false });
let seq = 0;

io.on("connection", (socket) => {
  socket.on("join", (data, ack) => {
    socket.join(`meeting:${data?.meeting_id}`);
    if (typeof ack === "function") ack({ ok: true, seq, ballots: [] });
  });
  socket.on("vote.list", (_data, ack) => {
    if (typeof ack === "function") ack({ ok: true, ballots: [] });
  });
  socket.on("chair.set_item", (data, ack) => {
    seq += 1;
    io.to(`meeting:${data?.meeting_id}`).emit("event", { ...payload, seq, meeting_id: data?.meeting_id });
    if (typeof ack === "function") ack({ ok: true, seq });
  });
});

httpServer.listen(0, "127.0.0.1", 4096, () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port, deflate }) + "\n");
});
process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
