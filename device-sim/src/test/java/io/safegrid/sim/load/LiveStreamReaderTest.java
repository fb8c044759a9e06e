package io.safegrid.sim.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The probe's SSE reader against a small local SSE server (JDK HttpServer, chunked, loopback). */
class LiveStreamReaderTest {

  private HttpServer server;
  private EventLoopGroup loop;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  /** What each connection sends, one entry per connection; the connection ends after it. */
  private final LinkedBlockingQueue<String> scripts = new LinkedBlockingQueue<>();
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final List<String> threads = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/api/live", this::serve);
    server.start();
    loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterEach
  void stop() {
    server.stop(0);
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private void serve(HttpExchange x) throws IOException {
    requests.add(x.getRequestHeaders().getFirst("Authorization") + " | last=" + x.getRequestHeaders().getFirst("Last-Event-ID"));
    String script;
    try {
      script = scripts.poll(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      script = null;
    }
    x.getResponseHeaders().set("Content-Type", "text/event-stream");
    x.sendResponseHeaders(200, 0); // chunked
    try (OutputStream out = x.getResponseBody()) {
      if (script != null) {
        for (String part : script.split("\\|")) { // each part its own chunk, flushed
          out.write(part.getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      }
    }
  }

  private LiveStreamReader reader() {
    return new LiveStreamReader(loop.next(), "http://127.0.0.1:" + server.getAddress().getPort() + "/",
        "tok", (event, data, at) -> {
          events.add(event + "=" + data);
          threads.add(Thread.currentThread().getName());
        });
  }

  @Test
  void eventsSplitAcrossChunksAndLineEndingsArriveWholeOnTheEventLoop() {
    scripts.add(": hello\n\nretry: 3000\n\nid: 7\nevent: alarm\ndata: {\"a\":|1}\n\n"
        + "event: device\r\ndata: one\r\ndata: two\r\n\r\n"
        + "data: plain\r\rid: 9|\nevent: alarm\ndata: x\n\n");
    try (LiveStreamReader r = reader()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 4);
      assertThat(events).containsExactly("alarm={\"a\":1}", "device=one\ntwo", "message=plain", "alarm=x");
      assertThat(threads).allSatisfy(t -> assertThat(t).doesNotContain("HttpClient"));
      assertThat(requests.get(0)).isEqualTo("Bearer tok | last=null");
      assertThat(r.streaming()).isTrue();
    }
  }

  @Test
  void aLostStreamIsReopenedWithTheLastEventId() {
    scripts.add("id: 41\nevent: alarm\ndata: a\n\n");
    scripts.add("id: 42\nevent: alarm\ndata: b\n\n");
    try (LiveStreamReader r = reader()) {
      await().atMost(Duration.ofSeconds(15)).until(() -> events.size() >= 2);
      assertThat(events).containsExactly("alarm=a", "alarm=b");
      assertThat(requests).hasSizeGreaterThanOrEqualTo(2);
      assertThat(requests.get(1)).isEqualTo("Bearer tok | last=41");
    }
  }

  @Test
  void aRefusedStreamIsAnErrorNotEvents() throws Exception {
    server.removeContext("/api/live");
    server.createContext("/api/live", x -> {
      x.sendResponseHeaders(401, -1);
      x.close();
    });
    try (LiveStreamReader r = reader()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> r.lastError() != null);
      assertThat(r.lastError()).contains("401");
      assertThat(r.streaming()).isFalse();
      assertThat(events).isEmpty();
    }
  }
}
