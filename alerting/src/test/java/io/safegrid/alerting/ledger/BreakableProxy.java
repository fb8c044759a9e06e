package io.safegrid.alerting.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy in front of PostgreSQL that a test can break: per connection it can drop
 * what the server sends back ({@link Link#discardResponses}) and cut both sides ({@link
 * Link#cut}), and it can refuse new connections, or go silent ({@link #blackhole}: nothing
 * forwarded, nothing closed, as behind a firewall that drops). Loopback only, port 0. Public for other modules'
 * tests (alerting's test-jar), e.g. the duty page while the ledger's database is unreachable.
 */
public final class BreakableProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean refuse;
  private volatile boolean blackhole;
  private volatile boolean closed;

  public BreakableProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "breakable-proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  /** The proxy's port on 127.0.0.1. */
  public int port() {
    return listener.getLocalPort();
  }

  /** While true, new connections are closed at once (the database looks unreachable). */
  public void refuseNew(boolean refuse) {
    this.refuse = refuse;
  }

  /**
   * The link whose connection to the server has this local port: PostgreSQL's {@code
   * pg_stat_activity.client_port} of the backend behind it.
   */
  Optional<Link> linkOfBackendClientPort(int clientPort) {
    return links.stream().filter(l -> l.upstream.getLocalPort() == clientPort).findFirst();
  }

  /**
   * A silent network cut, or its end. While on: the connections open now stop forwarding in both
   * directions for good, without closing or resetting anything (a firewall DROP, a paused VM, a
   * stateful firewall that lost its connection table: the peers wait until their own timeouts or
   * TCP's retransmission limit, ~15 min); new connections are accepted and stay silent too. Off:
   * new connections work again; those that went silent stay silent (their state is lost) until
   * the proxy is closed.
   */
  public void blackhole(boolean on) {
    if (on) {
      links.forEach(l -> l.silent = true);
    }
    this.blackhole = on;
  }

  /** Cuts every connection open now. */
  public void cutAll() {
    links.forEach(Link::cut);
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return;
      }
      if (refuse) {
        closeQuietly(client);
        continue;
      }
      try {
        Socket upstream = new Socket(targetHost, targetPort);
        Link link = new Link(client, upstream);
        link.silent = blackhole;
        links.add(link);
        link.start();
      } catch (IOException e) {
        closeQuietly(client);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    cutAll();
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  /** One proxied connection. */
  final class Link {
    private final Socket client;
    private final Socket upstream;
    private volatile boolean discard;
    /** Forwards nothing more, closes nothing ({@link #blackhole}). */
    private volatile boolean silent;

    private Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    private void start() {
      pump(client, upstream, false, "breakable-proxy-up");
      pump(upstream, client, true, "breakable-proxy-down");
    }

    /** From now on, what the server sends on this connection is dropped (the client waits). */
    void discardResponses() {
      discard = true;
    }

    /** Closes both sides (the client's with a reset). */
    void cut() {
      try {
        client.setSoLinger(true, 0);
      } catch (IOException ignored) {
        // closing anyway
      }
      closeQuietly(client);
      closeQuietly(upstream);
      links.remove(this);
    }

    private void pump(Socket from, Socket to, boolean toClient, String name) {
      Thread t = new Thread(() -> {
        byte[] buf = new byte[16_384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
          for (int n; (n = in.read(buf)) >= 0; ) {
            if ((toClient && discard) || silent) {
              continue;
            }
            out.write(buf, 0, n);
            out.flush();
          }
        } catch (IOException e) {
          // one side closed or was cut
        } finally {
          cut();
        }
      }, name);
      t.setDaemon(true);
      t.start();
    }
  }
}
