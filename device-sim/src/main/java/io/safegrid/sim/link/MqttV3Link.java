package io.safegrid.sim.link;

import io.safegrid.sim.site.SimDevice;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * MQTT 3.1.1 device (Paho mqttv3): client id and username = device id, password = secret (or the
 * given one, for the wrong-secret fault), clean session, keepalive 30 s.
 */
public final class MqttV3Link implements DeviceLink {

  private final MqttAsyncClient client;
  private final MqttConnectOptions options;
  private final String topicPrefix;
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * @param brokerUri e.g. {@code tcp://127.0.0.1:1883}
   * @param password the secret to present
   * @param maxInFlight most unacknowledged QoS 1/2 publishes
   */
  public MqttV3Link(String brokerUri, SimDevice device, String password, int maxInFlight) {
    try {
      client = new MqttAsyncClient(brokerUri, device.id(), new MemoryPersistence());
    } catch (MqttException e) {
      throw new IllegalArgumentException("bad MQTT URI " + brokerUri + ": " + e.getMessage(), e);
    }
    options = new MqttConnectOptions();
    options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    options.setUserName(device.id());
    options.setPassword(password.toCharArray());
    options.setCleanSession(true);
    options.setKeepAliveInterval(30);
    options.setConnectionTimeout(10);
    options.setMaxInflight(maxInFlight);
    options.setAutomaticReconnect(false);
    topicPrefix = "devices/" + device.id() + "/";
  }

  @Override
  public CompletableFuture<Void> connect() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      client.connect(options, null, listener(done));
    } catch (MqttException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  @Override
  public CompletableFuture<Void> publish(String channel, byte[] payload, int qos) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    inFlight.incrementAndGet();
    done.whenComplete((v, e) -> inFlight.decrementAndGet());
    try {
      client.publish(topicPrefix + channel, payload, qos, false, null, listener(done));
    } catch (MqttException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  private static IMqttActionListener listener(CompletableFuture<Void> done) {
    return new IMqttActionListener() {
      @Override
      public void onSuccess(IMqttToken token) {
        done.complete(null);
      }

      @Override
      public void onFailure(IMqttToken token, Throwable error) {
        done.completeExceptionally(error == null ? new Refused("failed") : error);
      }
    };
  }

  @Override
  public void drop() {
    try {
      client.disconnectForcibly(0, 100, false);
    } catch (MqttException ignored) {
      // already down
    }
  }

  @Override
  public boolean isConnected() {
    return client.isConnected();
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public void close() {
    try {
      if (client.isConnected()) {
        client.disconnect(1000).waitForCompletion(2000);
      }
    } catch (MqttException ignored) {
      // closing anyway
    }
    try {
      client.close(true);
    } catch (MqttException ignored) {
      // closing anyway
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
