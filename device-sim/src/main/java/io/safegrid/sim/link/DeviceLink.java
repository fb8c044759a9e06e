package io.safegrid.sim.link;

import java.util.concurrent.CompletableFuture;

/**
 * One simulated device's connection to a gateway or broker. Thread-safe.
 *
 * <p>{@link #publish} completes when the far end acknowledged: MQTT QoS 1 PUBACK (QoS 2 PUBCOMP),
 * CoAP CON 2.04; for MQTT QoS 0 and CoAP NON when the message was handed to the socket. It
 * completes exceptionally with {@link Refused} when the far end answered no (CoAP 4.xx/5.xx), with
 * any other exception when no answer came (connection lost, CoAP exchange timed out).
 */
public interface DeviceLink extends AutoCloseable {

  /**
   * Seconds after which an MQTT link's ({@link MqttV3Link}, {@link MqttV5Link}) {@link #connect()}
   * gives up waiting for the CONNACK: twice Paho's connection timeout (10 s), which does not cover
   * a connect stuck inside Paho.
   */
  long CONNECT_GIVE_UP_S = 20;

  /** Connects (MQTT CONNECT / DTLS handshake on first use); completes when connected. */
  CompletableFuture<Void> connect();

  /**
   * Publishes to {@code devices/{id}/{channel}}.
   *
   * @param channel {@code telemetry}, {@code events} or {@code status}
   * @param payload bytes as sent
   * @param qos MQTT QoS 0..2; for CoAP 0 = NON, else CON
   */
  CompletableFuture<Void> publish(String channel, byte[] payload, int qos);

  /** Drops the connection at once, as a device losing its link would (no DISCONNECT). */
  void drop();

  /** True while connected (CoAP: always). */
  boolean isConnected();

  /** Messages published but not yet acknowledged. */
  int inFlight();

  @Override
  void close();

  /** The far end said no: CoAP response code, or MQTT reason. */
  final class Refused extends RuntimeException {
    public Refused(String message) {
      super(message, null, false, false);
    }
  }
}
