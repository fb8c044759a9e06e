package io.safegrid.gateway.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A client of {@code GET /api/live} (server-sent events) as a duty officer's browser is: bearer
 * token, reads the stream line by line on a thread of its own and keeps every complete event
 * (with its arrival time, {@link System#nanoTime()}).
 */
final class SseListener implements AutoCloseable {

  /** One server-sent event: name ({@code event:}), id ({@code id:}, or null), data as JSON. */
  record Event(String name, String id, JsonNode data, long receivedNanos) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Event> events = new CopyOnWriteArrayList<>();
  private final Stream<String> lines;
  private final Thread reader;
  private volatile Throwable failure;

  private SseListener(Stream<String> lines) {
    this.lines = lines;
    this.reader = new Thread(this::read, "e2e-sse-reader");
    this.reader.setDaemon(true);
    this.reader.start();
  }

  /**
   * Connects and returns once the response headers (status 200) are in.
   *
   * @throws IOException when the status is not 200
   */
  static SseListener connect(int httpPort, String token) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/live"))
        .header("Authorization", "Bearer " + token)
        .header("Accept", "text/event-stream")
        .build();
    HttpResponse<Stream<String>> response;
    try {
      response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
          .sendAsync(request, HttpResponse.BodyHandlers.ofLines())
          .get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IOException("GET /api/live failed: " + e, e);
    }
    if (response.statusCode() != 200) {
      response.body().close();
      throw new IOException("GET /api/live answered " + response.statusCode());
    }
    return new SseListener(response.body());
  }

  private void read() {
    String name = null;
    String id = null;
    StringBuilder data = new StringBuilder();
    try {
      for (String line : (Iterable<String>) lines::iterator) {
        if (line.isEmpty()) {
          if (name != null || data.length() > 0) {
            JsonNode node = data.length() == 0 ? null : JSON.readTree(data.toString());
            events.add(new Event(name == null ? "message" : name, id, node, System.nanoTime()));
          }
          name = null;
          id = null;
          data.setLength(0);
        } else if (line.startsWith("event:")) {
          name = line.substring(6).trim();
        } else if (line.startsWith("id:")) {
          id = line.substring(3).trim();
        } else if (line.startsWith("data:")) {
          if (data.length() > 0) {
            data.append('\n');
          }
          data.append(line.substring(5).trim());
        }
        // ":" comments (keepalive) are ignored
      }
    } catch (Throwable e) {
      failure = e;
    }
  }

  /** Every event so far, in arrival order. */
  List<Event> events() {
    return new ArrayList<>(events);
  }

  /** {@code event: alarm} events whose alarm id is {@code alarmId}, in arrival order. */
  List<Event> alarmEvents(long alarmId) {
    return events.stream()
        .filter(e -> e.name().equals("alarm") && e.data() != null
            && e.data().path("alarmId").asLong(-1) == alarmId)
        .toList();
  }

  /** What ended the stream, or null while it runs. */
  Throwable failure() {
    return failure;
  }

  @Override
  public void close() {
    lines.close();
    reader.interrupt();
  }
}
