package io.safegrid.sim.load;

import io.safegrid.sim.link.MqttClientKind;
import io.safegrid.sim.link.Transport;
import io.safegrid.sim.link.netty.SocketTransport;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code sim load} does.
 *
 * @param devices simulated devices N
 * @param ratePerS target messages per second over all devices
 * @param qos MQTT QoS 0..2 (CoAP: 0 = NON, else CON)
 * @param durationS seconds of publishing (then up to {@code drainS} for outstanding acks)
 * @param payloadBytes size of each telemetry payload, bytes (padded JSON; at least the bare record)
 * @param mix weights of MQTT 3.1.1, MQTT 5 and CoAP devices, e.g. {@code 1:1:0}
 * @param mqttUri broker or gateway, e.g. {@code tcp://127.0.0.1:1883}
 * @param coapUri gateway, {@code coap://...} or {@code coaps://...}
 * @param site site file to take device ids and secrets from, or null for synthetic devices
 *     {@code load-00001}.. with secret {@code demo-load-00001}
 * @param apiUrl gateway HTTP base, e.g. {@code http://127.0.0.1:8080}, or null (no alarm figure)
 * @param token bearer token for {@code /api/live}
 * @param probeIds the probe gas alarms' ids, or empty to take the last {@code probeDevices} gas
 *     alarms of the site (never among the N load devices)
 * @param probeDevices how many probe devices when {@code probeIds} is empty, >= 1
 * @param probeTransport how the probe devices talk (v3, v5 or coap)
 * @param probeIntervalMs one probe device's cycle, ms: it crosses 25 %LEL once per cycle and
 *     clears half-way; the probes are spread evenly over the cycle, so there are
 *     {@code probeDevices * 1000 / probeIntervalMs} crossings per second
 * @param summary JSON summary file, or null
 * @param drainS seconds to wait for outstanding acks after publishing stops
 * @param warmupS first seconds whose latencies are left out of the percentiles (JIT, connection
 *     set-up); messages are still counted; the probe crosses from 2 s in, but its crossings in
 *     these seconds are not timed either
 * @param mqttClient MQTT client for the load and probe devices: Netty (shared event loops) or Paho
 * @param ioThreads Netty event loop threads (ignored for Paho)
 * @param maxInFlight most unacknowledged messages per device; a device at the limit is passed
 *     over by the pacer (back-pressure)
 * @param keepAliveS MQTT keepalive, seconds
 * @param connectConcurrency most connection handshakes (TCP + CONNECT/CONNACK) at a time
 * @param burst most messages a device publishes back to back on its pacer turn (1 = one each;
 *     more puts several messages in one write system call on both ends, for throughput ceilings)
 * @param probeSamples file for every publish-to-alarm sample (crossing ts ms, device, latency µs,
 *     publish and read nanoTime ns), or null
 * @param probeAnnunciationSamples file for every publish-to-annunciation sample, the same
 *     columns, or null
 * @param ioTransport socket transport of the Netty event loops (MQTT devices, the probe's
 *     {@code /api/live}): io_uring, epoll or NIO, as {@link SocketTransport#choose} gave it
 */
public record LoadOptions(
    int devices,
    double ratePerS,
    int qos,
    int durationS,
    int payloadBytes,
    int[] mix,
    String mqttUri,
    String coapUri,
    Path site,
    String apiUrl,
    String token,
    List<String> probeIds,
    int probeDevices,
    Transport probeTransport,
    long probeIntervalMs,
    Path summary,
    int drainS,
    int warmupS,
    MqttClientKind mqttClient,
    int ioThreads,
    int maxInFlight,
    int keepAliveS,
    int connectConcurrency,
    int burst,
    Path probeSamples,
    Path probeAnnunciationSamples,
    SocketTransport ioTransport) {

  /**
   * Validates every value against what it means (the simulator turns the exception into a usage
   * error, exit code 2, before anything connects).
   *
   * @throws IllegalArgumentException naming the bad option and the value given
   */
  public LoadOptions {
    if (devices < 1) {
      throw new IllegalArgumentException("--devices must be >= 1, was " + devices);
    }
    if (!(ratePerS >= MIN_RATE_PER_S) || Double.isInfinite(ratePerS)) {
      throw new IllegalArgumentException("--rate must be a number >= " + MIN_RATE_PER_S
          + " (messages per second, all devices), was " + ratePerS);
    }
    if (qos < 0 || qos > 2) {
      throw new IllegalArgumentException("--qos must be 0, 1 or 2, was " + qos);
    }
    if (durationS < 1) {
      throw new IllegalArgumentException("--duration must be >= 1 s, was " + durationS);
    }
    if (payloadBytes < 0 || payloadBytes > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("--payload-bytes must be 0.." + MAX_PAYLOAD_BYTES + ", was " + payloadBytes);
    }
    if (drainS < 0) {
      throw new IllegalArgumentException("--drain must be >= 0 s, was " + drainS);
    }
    if (keepAliveS < 1 || keepAliveS > 65_535) {
      throw new IllegalArgumentException("--keepalive must be 1..65535 s, was " + keepAliveS);
    }
    if (ratePerS * durationS < 1) {
      throw new IllegalArgumentException("--rate " + ratePerS + " msg/s for --duration " + durationS
          + " s sends no message: give a rate x duration of at least 1");
    }
    if (warmupS < 0 || warmupS >= durationS) {
      throw new IllegalArgumentException("--warmup must be >= 0 and shorter than --duration");
    }
    if (mix.length != 3 || mix[0] < 0 || mix[1] < 0 || mix[2] < 0 || mix[0] + mix[1] + mix[2] == 0) {
      throw new IllegalArgumentException("--mix must be three weights v3:v5:coap, e.g. 1:1:0");
    }
    probeIds = probeIds == null ? List.of() : List.copyOf(probeIds);
    ioTransport = ioTransport == null ? SocketTransport.NIO : ioTransport;
    if (probeDevices < 1) {
      throw new IllegalArgumentException("--probe-devices must be >= 1, was " + probeDevices);
    }
    if (probeIntervalMs < 2) {
      throw new IllegalArgumentException("--probe-interval-ms must be >= 2 (--probe-interval >= 1), was " + probeIntervalMs);
    }
    if (ioThreads < 1) {
      throw new IllegalArgumentException("--io-threads must be >= 1, was " + ioThreads);
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("--max-in-flight must be >= 1, was " + maxInFlight);
    }
    if (burst < 1 || burst > maxInFlight) {
      throw new IllegalArgumentException("--burst must be 1..--max-in-flight, was " + burst);
    }
    if (connectConcurrency < 1) {
      throw new IllegalArgumentException("--connect-concurrency must be >= 1, was " + connectConcurrency);
    }
  }

  /**
   * The lowest {@code --rate}, messages per second over all devices: one message every 100 s. A
   * rate of 1e-9 used to start a run that sent nothing and printed "0 msg/s".
   */
  public static final double MIN_RATE_PER_S = 0.01;

  /** The largest {@code --payload-bytes}: MQTT's largest packet (remaining length 268,435,455 bytes). */
  public static final int MAX_PAYLOAD_BYTES = 268_435_455;

  /**
   * Parses {@code v3:v5:coap} weights, e.g. {@code 2:1:1}.
   *
   * @throws IllegalArgumentException when it is not three whole numbers separated by colons
   */
  public static int[] parseMix(String mix) {
    String[] parts = mix.split(":", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("--mix must be v3:v5:coap weights, e.g. 1:1:0, was " + mix);
    }
    int[] w = new int[3];
    for (int i = 0; i < 3; i++) {
      try {
        w[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--mix must be v3:v5:coap whole-number weights, e.g. 1:1:0, was " + mix);
      }
    }
    return w;
  }
}
