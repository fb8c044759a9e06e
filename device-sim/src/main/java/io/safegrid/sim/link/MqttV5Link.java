package io.safegrid.sim.link;

import io.safegrid.sim.site.SimDevice;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

  private final String brokerUri;
  private final String clientId;
  /** The Paho client of the current connection attempt: a fresh one for every attempt after the first. */
  private volatile MqttAsyncClient client;
  /** Whether {@link #client} has had its connect (guarded by this). */
  private boolean connectTried;
  private final MqttConnectionOptions options;
  private final String topicPrefix;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** As {@link MqttV3Link}. */
  public MqttV5Link(String brokerUri, SimDevice device, String password) {
    this.brokerUri = brokerUri;
    this.clientId = device.id();
    client = newClient();
    options = new MqttConnectionOptions();
    options.setUserName(device.id());
    options.setPassword(password.getBytes(StandardCharsets.UTF_8));
    options.setCleanStart(true);
    options.setKeepAliveInterval(30);
    options.setConnectionTimeout(10);
    options.setAutomaticReconnect(false);
    topicPrefix = "devices/" + device.id() + "/";
  }

  private MqttAsyncClient newClient() {
    try {
      return new MqttAsyncClient(brokerUri, clientId, new MemoryPersistence());
    } catch (MqttException e) {
      throw new IllegalArgumentException("bad MQTT URI " + brokerUri + ": " + e.getMessage(), e);
    }
  }

  /**
   * Connects, with a fresh Paho client after the first attempt (the previous one is dropped and
   * closed first), as a device restarting its MQTT stack would: a reused client's threads may still
   * be stopping from the lost connection. Completes exceptionally with a {@link TimeoutException}
   * when no CONNACK came within {@link DeviceLink#CONNECT_GIVE_UP_S} s: Paho 1.2.5 can leave a connect
   * waiting for ever when the broker closes the connection right after accepting it (another
   * client taking the client id, as the wrong-secret impostor does on a broker without
   * authentication; docs/simulator.md "Paho and a taken-over client id"), and the device would
   * never try again.
   */
  @Override
  public CompletableFuture<Void> connect() {
    MqttAsyncClient c;
    MqttAsyncClient previous = null;
    synchronized (this) {
      if (connectTried) {
        previous = client;
        client = newClient();
      }
      connectTried = true;
      c = client;
    }
    if (previous != null) {
      retire(previous);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      c.connect(options, null, listener(done));
    } catch (MqttException e) {
      done.completeExceptionally(e);
    }
    CompletableFuture.delayedExecutor(CONNECT_GIVE_UP_S, TimeUnit.SECONDS).execute(() ->
        done.completeExceptionally(new TimeoutException("no CONNACK within " + CONNECT_GIVE_UP_S + " s")));
    return done;
  }

  /** Drops and closes a client no longer used; it may be connected, disconnected or stuck connecting. */
  private static void retire(MqttAsyncClient old) {
    try {
      old.disconnectForcibly(0, 100, false);
    } catch (MqttException | RuntimeException ignored) {
      // not connected: nothing to drop
    }
    try {
      old.close(true);
    } catch (MqttException | RuntimeException ignored) {
      // a connect stuck in Paho cannot be closed; its thread is left sleeping
    }
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
    MqttAsyncClient c = client;
    try {
      if (c.isConnected()) {
        c.disconnect(1000).waitForCompletion(2000);
      }
    } catch (MqttException ignored) {
      // closing anyway
    }
    try {
      c.close(true);
    } catch (MqttException ignored) {
      // closing anyway
    }
  }
}
