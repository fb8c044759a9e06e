package io.safegrid.alerting.channel.mqtt;

import io.safegrid.alerting.outbox.Channel;
import io.safegrid.alerting.outbox.DeliveryException;
import io.safegrid.alerting.outbox.OutboxMessage;
import java.nio.charset.StandardCharsets;
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
 */
public final class MqttChannel implements Channel {
  private static final Logger log = LoggerFactory.getLogger(MqttChannel.class);
  /** Outbox channel name. */
  public static final String NAME = "mqtt";

  private final MqttChannelConfig config;
  private MqttClient client;

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
      MqttClient c = connected();
      MqttMessage msg = new MqttMessage(m.payload().getBytes(StandardCharsets.UTF_8));
      msg.setQos(1);
      msg.setRetained(false);
      c.publish(config.topicPrefix() + m.recipient(), msg); // blocks until PUBACK (or timeout)
    } catch (MqttException e) {
      dropClient();
      throw new DeliveryException("MQTT publish to " + config.serverUri() + " failed: " + e.getMessage()
          + " (reason " + e.getReasonCode() + ")", e);
    }
  }

  private MqttClient connected() throws MqttException {
    if (client != null && client.isConnected()) {
      return client;
    }
    dropClient();
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
    log.info("connected to the emergency network broker {} as {}", config.serverUri(), config.clientId());
    client = c;
    return c;
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
