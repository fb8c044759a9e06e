package io.safegrid.sim.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.sim.link.DeviceLink;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * Publish-to-alarm latency: a probe gas alarm crosses the 25 %LEL setpoint (GB/T 50493-2019 5.5.2)
 * on a schedule (60 %LEL, then 0 %LEL half an interval later to clear it), while this listens on
 * the gateway's {@code /api/live} (server-sent events, bearer token). The time from the crossing's
 * publish to the first {@code event: alarm} for the probe (type raised, reopened or repeated) is
 * one sample.
 */
public final class AlarmProbe implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> RAISING = Set.of("raised", "reopened", "repeated", "severity_changed");

  private final DeviceLink link;
  private final String deviceId;
  private final Recorder latencyMicros;
  private final AtomicLong pendingSinceNanos = new AtomicLong(-1);
  private final AtomicLong samples = new AtomicLong();
  private final Thread listener;
  private volatile boolean closed;
  private volatile boolean streaming;
  private volatile String lastError;
  private long seq;

  /**
   * @param apiUrl gateway HTTP base, e.g. {@code http://127.0.0.1:8080}
   * @param token bearer token (role viewer is enough)
   * @param link the probe device's connected link
   */
  public AlarmProbe(String apiUrl, String token, String deviceId, DeviceLink link, Recorder latencyMicros) {
    this.link = link;
    this.deviceId = deviceId;
    this.latencyMicros = latencyMicros;
    this.listener = new Thread(() -> listen(apiUrl, token), "alarm-probe-sse");
    listener.setDaemon(true);
    listener.start();
  }

  /** True once the SSE stream answered 200. */
  public boolean streaming() {
    return streaming;
  }

  /** Publish-to-alarm samples taken so far. */
  public long samples() {
    return samples.get();
  }

  /** The last stream error, or null. */
  public String lastError() {
    return lastError;
  }

  /** Publishes the crossing (60 %LEL) and starts the clock. */
  public void cross() {
    pendingSinceNanos.set(System.nanoTime());
    link.publish("telemetry", payload(60.0), 1);
  }

  /** Publishes 0 %LEL so the alarm clears before the next crossing. */
  public void clear() {
    link.publish("telemetry", payload(0.0), 1);
  }

  private byte[] payload(double lel) {
    return ("{\"ts\":" + System.currentTimeMillis() + ",\"seq\":" + (++seq)
        + ",\"values\":{\"gas_lel\":" + lel + "}}").getBytes(StandardCharsets.UTF_8);
  }

  private void listen(String apiUrl, String token) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    while (!closed) {
      try {
        HttpRequest request = HttpRequest.newBuilder(URI.create(apiUrl.replaceAll("/+$", "") + "/api/live"))
            .header("Authorization", "Bearer " + token)
            .header("Accept", "text/event-stream")
            .GET().build();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
          lastError = "/api/live answered " + response.statusCode();
          response.body().close();
          Thread.sleep(1000);
          continue;
        }
        streaming = true;
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
          String event = null;
          String line;
          while (!closed && (line = in.readLine()) != null) {
            if (line.startsWith("event:")) {
              event = line.substring(6).trim();
            } else if (line.startsWith("data:") && "alarm".equals(event)) {
              onAlarm(line.substring(5).trim());
            } else if (line.isEmpty()) {
              event = null;
            }
          }
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        lastError = e.toString();
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  private void onAlarm(String data) {
    long now = System.nanoTime();
    try {
      JsonNode event = JSON.readTree(data);
      if (!deviceId.equals(event.path("alarm").path("deviceId").asText())
          || !RAISING.contains(event.path("type").asText())) {
        return;
      }
      long since = pendingSinceNanos.getAndSet(-1);
      if (since > 0) {
        latencyMicros.recordValue(Math.max(0, (now - since) / 1000));
        samples.incrementAndGet();
      }
    } catch (Exception e) {
      lastError = "unreadable alarm event: " + e.getMessage();
    }
  }

  @Override
  public void close() {
    closed = true;
    listener.interrupt();
  }
}
