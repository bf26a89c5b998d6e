/**
 * A gate on a DICOM link, for tests: a TCP forwarder on loopback that a remote Orthanc sends its
 * C-STOREs through (its C-MOVE answers to UH Bristol). Held, it accepts new associations and lets
 * nothing through until released, as a link that stalls mid-transfer does; released, the waiting
 * associations go on. This keeps a retrieval in flight for exactly as long as a test needs,
 * whatever the machine's speed (a SIGSTOP after the start would race the transfer).
 */
import net from 'node:net';

/** A gate between a remote and LOCAL's DICOM port. */
export class DicomGate {
  private held = false;
  private readonly waiting: net.Socket[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {
    server.on('connection', (client) => {
      this.sockets.add(client);
      client.once('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (this.held) {
        client.pause();
        this.waiting.push(client);
      } else {
        this.forward(client);
      }
    });
  }

  /** Opens a gate listening on 127.0.0.1:`port`, forwarding to 127.0.0.1:`targetPort`. */
  static open(port: number, targetPort: number): Promise<DicomGate> {
    const server = net.createServer({ pauseOnConnect: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(new DicomGate(server, targetPort)));
    });
  }

  /** From now on, new associations wait at the gate. */
  hold(): void {
    this.held = true;
  }

  /** How many associations are waiting at the gate (one means a transfer has reached it and stalled). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Lets the waiting associations through, and every later one. */
  release(): void {
    this.held = false;
    for (const client of this.waiting.splice(0)) this.forward(client);
  }

  /** Closes the gate and every association through it. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.once('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}
