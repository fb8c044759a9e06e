package io.safegrid.sim.link;

import io.safegrid.sim.site.SimDevice;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;

/**
 * MQTT 5 device (Paho mqttv5): client id and username = device id, password = secret, clean
 * start, keepalive 30 s. A PUBACK with a reason code of 0x80 or above (e.g. 0x99 payload format
 * invalid) completes the publish with {@link Refused}.
 */
public final class MqttV5Link implements DeviceLink {

  private final MqttAsyncClient client;
  private final MqttConnectionOptions options;
  private final String topicPrefix;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** As {@link MqttV3Link}. */
  public MqttV5Link(String brokerUri, SimDevice device, String password) {
    try {
      client = new MqttAsyncClient(brokerUri, device.id(), new MemoryPersistence());
    } catch (MqttException e) {
      throw new IllegalArgumentException("bad MQTT URI " + brokerUri + ": " + e.getMessage(), e);
    }
    options = new MqttConnectionOptions();
    options.setUserName(device.id());
    options.setPassword(password.getBytes(StandardCharsets.UTF_8));
    options.setCleanStart(true);
    options.setKeepAliveInterval(30);
    options.setConnectionTimeout(10);
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

  private static MqttActionListener listener(CompletableFuture<Void> done) {
    return new MqttActionListener() {
      @Override
      public void onSuccess(IMqttToken token) {
        int[] codes = token.getReasonCodes();
        if (codes != null) {
          for (int code : codes) {
            if (code >= 0x80) {
              done.completeExceptionally(new Refused("reason code 0x" + Integer.toHexString(code)));
              return;
            }
          }
        }
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
}
