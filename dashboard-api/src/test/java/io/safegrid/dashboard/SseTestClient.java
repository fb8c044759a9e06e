package io.safegrid.dashboard;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A server-sent events client over a plain socket (HTTP/1.1, chunked), as a browser's EventSource
 * sees the stream: {@code id}, {@code event}, {@code data} fields, comments skipped. Dropping the
 * connection is closing the socket, nothing more.
 */
final class SseTestClient implements AutoCloseable {
  record Event(String id, String event, String data) {}

  private final Socket socket;
  private final List<Event> events = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger count = new AtomicInteger();
  private final CountDownLatch headers = new CountDownLatch(1);
  private volatile int status;
  private volatile Map<String, String> responseHeaders = Map.of();
  private volatile boolean ended;
  private Thread reader;

  private SseTestClient(Socket socket) {
    this.socket = socket;
  }

  /**
   * Connects and sends the GET; reads in a background thread unless {@code read} is false (a slow
   * client that never reads).
   */
  static SseTestClient open(int port, String target, Map<String, String> requestHeaders, boolean read)
      throws IOException {
    Socket s = new Socket();
    if (!read) {
      s.setReceiveBufferSize(4096);
    }
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    StringBuilder req = new StringBuilder();
    req.append("GET ").append(target).append(" HTTP/1.1\r\n");
    req.append("Host: 127.0.0.1:").append(port).append("\r\n");
    req.append("Accept: text/event-stream\r\n");
    requestHeaders.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
    req.append("\r\n");
    OutputStream out = s.getOutputStream();
    out.write(req.toString().getBytes(StandardCharsets.UTF_8));
    out.flush();
    SseTestClient c = new SseTestClient(s);
    if (read) {
      c.reader = new Thread(c::readLoop, "sse-test-client");
      c.reader.setDaemon(true);
      c.reader.start();
    }
    return c;
  }

  static SseTestClient open(int port, String target, Map<String, String> requestHeaders)
      throws IOException {
    return open(port, target, requestHeaders, true);
  }

  int awaitStatus() throws InterruptedException {
    if (!headers.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("no response headers within 10 s");
    }
    return status;
  }

  Map<String, String> headers() {
    return responseHeaders;
  }

  List<Event> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  List<Event> events(String name) {
    return events().stream().filter(e -> name.equals(e.event())).toList();
  }

  /** How many events arrived so far. */
  int count() {
    return count.get();
  }

  boolean ended() {
    return ended;
  }

  /** Waits until an event matching the predicate has arrived. */
  Event await(Predicate<Event> p, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (Event e : events()) {
        if (p.test(e)) {
          return e;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no matching event within " + timeout + "; got " + events);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private void readLoop() {
    try {
      InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 65536);
      String statusLine = readHttpLine(in);
      status = Integer.parseInt(statusLine.split(" ")[1]);
      Map<String, String> h = new LinkedHashMap<>();
      String line;
      while (!(line = readHttpLine(in)).isEmpty()) {
        int i = line.indexOf(':');
        h.put(line.substring(0, i).trim().toLowerCase(Locale.ROOT), line.substring(i + 1).trim());
      }
      responseHeaders = h;
      headers.countDown();
      InputStream body =
          "chunked".equalsIgnoreCase(h.get("transfer-encoding")) ? new Chunked(in) : in;
      BufferedReader r = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
      String id = null;
      String event = null;
      List<String> data = new ArrayList<>();
      while ((line = r.readLine()) != null) {
        if (line.isEmpty()) {
          if (!data.isEmpty() || event != null) {
            events.add(new Event(id, event == null ? "message" : event, String.join("\n", data)));
            count.incrementAndGet();
          }
          id = null;
          event = null;
          data.clear();
        } else if (line.startsWith(":")) {
          continue;
        } else {
          int i = line.indexOf(':');
          String field = i < 0 ? line : line.substring(0, i);
          String value = i < 0 ? "" : line.substring(i + 1);
          if (value.startsWith(" ")) {
            value = value.substring(1);
          }
          switch (field) {
            case "id" -> id = value;
            case "event" -> event = value;
            case "data" -> data.add(value);
            default -> {}
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // socket closed
    } finally {
      ended = true;
      headers.countDown();
    }
  }

  private static String readHttpLine(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        break;
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    if (c == -1 && b.size() == 0) {
      throw new IOException("connection closed");
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** Decodes HTTP/1.1 chunked transfer coding. */
  private static final class Chunked extends InputStream {
    private final InputStream in;
    private int left;
    private boolean done;

    Chunked(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        String size = readHttpLine(in);
        if (size.isEmpty()) {
          size = readHttpLine(in);
        }
        int semi = size.indexOf(';');
        left = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, Math.min(len, left));
      if (n < 0) {
        done = true;
        return -1;
      }
      left -= n;
      if (left == 0) {
        readHttpLine(in); // CRLF after the chunk
      }
      return n;
    }
  }
}
