package io.safegrid.alerting.channel.mqtt;

import io.safegrid.alerting.outbox.Channel;
import io.safegrid.alerting.outbox.DeliveryException;
import io.safegrid.alerting.outbox.OutboxMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes notifications to the emergency network broker with Paho (MQTT 3.1.1): QoS 1, not
 * retained, topic {@code <prefix><recipient id>} (default {@code safegrid/notify/<recipient>}),
 * the outbox row's JSON payload (it carries the idempotency key). A message counts as delivered
 * when the broker's PUBACK arrives. Connects on first use and reconnects after a lost connection;
 * the outbox (not Paho) keeps undelivered messages, so Paho's persistence is in memory only.
 *
 * <p>Connection state (newcomer8 N7: a dead broker left a critical leak's call-out undelivered
 * for minutes with no log line): a WARN line when the connection is lost (Paho's {@code
 * connectionLost}, a failed publish) or the broker cannot be reached, once per outage, and a WARN
 * line when it is back, with the outage's length; {@link #connected()} for {@code GET
 * /api/health}; {@link #keepConnected()} tries to reconnect at most every {@link
 * #RECONNECT_EVERY} between delivery rounds, so a broker's return is found without waiting for
 * the next message's backoff.
 */
public final class MqttChannel implements Channel {
  private static final Logger log = LoggerFactory.getLogger(MqttChannel.class);
  /** Outbox channel name. */
  public static final String NAME = "mqtt";

  /** Least time between two reconnect attempts of {@link #keepConnected()}. */
  public static final Duration RECONNECT_EVERY = Duration.ofSeconds(5);

  private final MqttChannelConfig config;
  private MqttClient client;
  /** null: never tried; true: connected; false: lost or unreachable at the last try. */
  private volatile Boolean up;
  /** {@link System#nanoTime()} when {@link #up} last became false. */
  private volatile long downSinceNanos;
  private volatile String lastError;
  private long lastTryNanos;

  public MqttChannel(MqttChannelConfig config) {
    this.config = config;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public synchronized void send(OutboxMessage m) throws DeliveryException {
    try {
      MqttClient c = connected0();
      MqttMessage msg = new MqttMessage(m.payload().getBytes(StandardCharsets.UTF_8));
      msg.setQos(1);
      msg.setRetained(false);
      c.publish(config.topicPrefix() + m.recipient(), msg); // blocks until PUBACK (or timeout)
    } catch (MqttException e) {
      dropClient();
      String error = "MQTT publish to " + config.serverUri() + " failed: " + e.getMessage()
          + " (reason " + e.getReasonCode() + ")";
      lost(error);
      throw new DeliveryException(error, e);
    }
  }

  @Override
  public Boolean connected() {
    return up;
  }

  /** The last connection error, or null while connected / before the first try. */
  public String lastError() {
    return lastError;
  }

  @Override
  public synchronized boolean keepConnected() {
    if (client != null && client.isConnected()) {
      return false;
    }
    long now = System.nanoTime();
    if (up != null && now - lastTryNanos < RECONNECT_EVERY.toNanos()) {
      return false;
    }
    Boolean before = up;
    try {
      connected0();
      return Boolean.FALSE.equals(before);
    } catch (MqttException e) {
      dropClient();
      lost("cannot connect to " + config.serverUri() + ": " + e.getMessage() + " (reason " + e.getReasonCode() + ")");
      return false;
    }
  }

  /** Marks the connection lost or unreachable; the WARN line once per outage. */
  private void lost(String error) {
    lastError = error;
    if (!Boolean.FALSE.equals(up)) {
      boolean never = up == null;
      downSinceNanos = System.nanoTime();
      up = false;
      log.warn("emergency network broker {} {}: {}; notifications wait in the outbox and are retried",
          config.serverUri(), never ? "UNREACHABLE" : "LOST", error);
    }
  }

  private MqttClient connected0() throws MqttException {
    if (client != null && client.isConnected()) {
      return client;
    }
    dropClient();
    lastTryNanos = System.nanoTime();
    MqttClient c = new MqttClient(config.serverUri(), config.clientId(), new MemoryPersistence());
    c.setTimeToWait(config.timeout().toMillis());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setAutomaticReconnect(false);
    o.setKeepAliveInterval(30);
    o.setConnectionTimeout((int) Math.max(1, config.timeout().toSeconds()));
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    if (config.username() != null) {
      o.setUserName(config.username());
    }
    if (config.password() != null) {
      o.setPassword(config.password().toCharArray());
    }
    try {
      c.connect(o);
    } catch (MqttException e) {
      try {
        c.close(true);
      } catch (MqttException ignored) {
        // nothing to release
      }
      throw e;
    }
    c.setCallback(new LossWatch(c));
    if (Boolean.FALSE.equals(up)) {
      log.warn("emergency network broker {} reachable again after {} s (as {}): notifications deliver again",
          config.serverUri(), (System.nanoTime() - downSinceNanos) / 1_000_000_000L, config.clientId());
    } else {
      log.info("connected to the emergency network broker {} as {}", config.serverUri(), config.clientId());
    }
    up = true;
    lastError = null;
    client = c;
    return c;
  }

  /** Paho's callback: a lost connection is logged at once, not at the next message's failure. */
  private final class LossWatch implements MqttCallback {
    private final MqttClient owner;

    LossWatch(MqttClient owner) {
      this.owner = owner;
    }

    @Override
    public void connectionLost(Throwable cause) {
      if (owner == client || client == null) {
        lost("connection lost: " + (cause == null ? "closed" : cause.getMessage() == null ? cause.toString() : cause.getMessage()));
      }
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      // publishes only
    }

    @Override
    public void deliveryComplete(IMqttDeliveryToken token) {
      // the synchronous publish waits for the PUBACK itself
    }
  }

  private void dropClient() {
    if (client == null) {
      return;
    }
    try {
      if (client.isConnected()) {
        client.disconnectForcibly(1000, 1000);
      }
      client.close(true);
    } catch (MqttException e) {
      log.debug("closing MQTT client: {}", e.getMessage());
    }
    client = null;
  }

  @Override
  public synchronized void close() {
    dropClient();
  }
}
