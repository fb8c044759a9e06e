package io.safegrid.alerting.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** A Paho subscriber on {@code safegrid/notify/#} (QoS 1) that keeps what arrives, in order. */
public final class NotificationSubscriber implements AutoCloseable {
  /** One received notification. */
  public record Received(String topic, JsonNode json) {
    public String recipient() {
      return topic.substring(topic.lastIndexOf('/') + 1);
    }

    public String key() {
      return json.path("idempotencyKey").asText();
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final MqttClient client;
  private final BlockingQueue<Received> queue = new LinkedBlockingQueue<>();
  private final List<Received> all = java.util.Collections.synchronizedList(new ArrayList<>());

  public NotificationSubscriber(String uri) throws MqttException {
    client = new MqttClient(uri, "test-subscriber-" + System.nanoTime(), new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    client.connect(o);
    client.subscribe("safegrid/notify/#", 1, (topic, msg) -> {
      Received r = new Received(topic, MAPPER.readTree(msg.getPayload()));
      all.add(r);
      queue.add(r);
    });
  }

  /** The next notification, waiting at most {@code timeout}; null when none came. */
  public Received next(Duration timeout) throws InterruptedException {
    return queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Exactly {@code n} notifications within {@code timeout}; fails otherwise. */
  public List<Received> take(int n, Duration timeout) throws InterruptedException {
    List<Received> out = new ArrayList<>();
    long end = System.nanoTime() + timeout.toNanos();
    while (out.size() < n) {
      Received r = queue.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (r == null) {
        throw new AssertionError("expected " + n + " notifications, got " + out.size() + ": " + out);
      }
      out.add(r);
    }
    return out;
  }

  /** Everything received so far. */
  public List<Received> all() {
    synchronized (all) {
      return List.copyOf(all);
    }
  }

  @Override
  public void close() throws MqttException {
    if (client.isConnected()) {
      client.disconnect();
    }
    client.close();
  }
}
