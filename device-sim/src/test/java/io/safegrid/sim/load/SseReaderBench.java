package io.safegrid.sim.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Benchmark (not a test): the probe's receive path, bytes written by a local SSE server to the
 * event handed to the probe's code, for the {@code java.net.http} reader the probe used before
 * (selector thread -> executor -> the thread blocked on the body stream) and {@link
 * LiveStreamReader} (one Netty event loop). Both are connected to one JDK {@code HttpServer} at
 * once; every {@code intervalMs} the server writes one {@code event: alarm} to each (alternating
 * which goes first), its data the {@link System#nanoTime()} just before that connection's write
 * and flush. Same JVM, so the clocks agree. Run by {@code bench/sse_reader.sh [EVENTS]
 * [INTERVAL_MS]}; meaningful under the machine's real load (the hop costs are scheduling).
 */
public final class SseReaderBench {

  private SseReaderBench() {}

  /** {@code [events] [intervalMs]}, defaults 2000 and 5. */
  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    long intervalMs = args.length > 1 ? Long.parseLong(args[1]) : 5;
    List<OutputStream> streams = new CopyOnWriteArrayList<>();
    CountDownLatch connected = new CountDownLatch(2);
    CountDownLatch done = new CountDownLatch(1);
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/api/live", (HttpExchange x) -> {
      x.getResponseHeaders().set("Content-Type", "text/event-stream");
      x.sendResponseHeaders(200, 0);
      OutputStream out = x.getResponseBody();
      out.write(": hello\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      streams.add(out);
      connected.countDown();
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(3));
    server.start();
    String api = "http://127.0.0.1:" + server.getAddress().getPort();

    Histogram jdk = new Histogram(10_000_000, 3);
    Histogram netty = new Histogram(10_000_000, 3);
    Thread jdkReader = new Thread(() -> readWithJdk(api, jdk), "jdk-http-reader");
    jdkReader.setDaemon(true);
    jdkReader.start();
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("netty-sse", true),
        NioIoHandler.newFactory());
    LiveStreamReader reader = new LiveStreamReader(loop.next(), api, "t", (event, data, at) -> {
      if ("alarm".equals(event)) {
        synchronized (netty) {
          netty.recordValue(Math.max(0, (at - Long.parseLong(data)) / 1000));
        }
      }
    });
    if (!connected.await(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("readers did not connect");
    }
    Thread.sleep(500);
    for (int i = 0; i < events; i++) {
      for (int k = 0; k < streams.size(); k++) {
        OutputStream out = streams.get((i + k) % streams.size());
        long now = System.nanoTime();
        out.write(("id: " + (i + 1) + "\nevent: alarm\ndata: " + now + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
      Thread.sleep(intervalMs);
    }
    Thread.sleep(500);
    done.countDown();
    reader.close();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    server.stop(0);
    System.out.printf("load average %s%n", java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim());
    print("java.net.http (3 threads)", jdk);
    print("Netty LiveStreamReader (1 loop)", netty);
    System.exit(0);
  }

  private static void print(String name, Histogram h) {
    synchronized (h) {
      System.out.printf("%-32s n %5d  write -> handed to the probe us: p50 %6d p90 %6d p99 %6d max %7d%n", name,
          h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
          h.getMaxValue());
    }
  }

  /** The probe's reader before: java.net.http, body as an InputStream, lines on this thread. */
  private static void readWithJdk(String api, Histogram h) {
    try {
      HttpClient http = HttpClient.newBuilder().build();
      HttpResponse<InputStream> response = http.send(
          HttpRequest.newBuilder(URI.create(api + "/api/live")).header("Accept", "text/event-stream").GET().build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
        String event = null;
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith("event:")) {
            event = line.substring(6).trim();
          } else if (line.startsWith("data:") && "alarm".equals(event)) {
            long at = System.nanoTime();
            synchronized (h) {
              h.recordValue(Math.max(0, (at - Long.parseLong(line.substring(5).trim())) / 1000));
            }
          } else if (line.isEmpty()) {
            event = null;
          }
        }
      }
    } catch (Exception e) {
      System.err.println("jdk reader: " + e);
    }
  }
}
