package io.safegrid.sim.load;

import java.util.List;
import java.util.Map;

/**
 * What {@code sim load} measured; written as JSON to {@code --summary}.
 *
 * @param target what was asked: devices, rate, qos, duration, payload bytes, mix, MQTT client,
 *     event loop threads, in-flight limit, URIs
 * @param connected devices that connected
 * @param sent messages handed to the client libraries
 * @param acked messages acknowledged (PUBACK / PUBCOMP / CoAP 2.04; QoS 0: written)
 * @param refused messages the far end said no to (CoAP 4.xx/5.xx, MQTT 5 reason >= 0x80)
 * @param failed messages with no answer (connection lost, timeout, still unanswered after the drain)
 * @param skipped publishes due by the target rate but not sent: {@code skippedBusy + skippedLate}
 * @param skippedBusy due when no device could take one (all disconnected or at the in-flight
 *     limit: the far end's back-pressure)
 * @param skippedLate dropped because the simulator's pacer ran late by more than 100 ms of
 *     publishes (the simulator's own machine was saturated)
 * @param durationS seconds of publishing, measured
 * @param ackedPerS acked messages per second of publishing
 * @param ackLatencyMs publish to acknowledgement (PUBACK latency), ms
 * @param alarmLatencyMs publish of a probe's crossing to its {@code event: alarm} on {@code
 *     /api/live} (after the ledger's commit), ms; null when no API was given
 * @param annunciationLatencyMs publish of a probe's crossing to its {@code event: annunciation}
 *     on {@code /api/live} (the rule engine's decision, before the ledger), ms; count 0 against a
 *     gateway without annunciations; null when no API was given
 * @param probe the probe's devices and counts; null when no API was given
 * @param byTransport acked messages per transport (v3, v5, coap)
 * @param simulatorCpuS CPU seconds of the simulator's JVM (user + system, all threads) from its
 *     start to the end of the run, connects and start-up included; -1 where the OS does not tell
 */
public record LoadSummary(
    Map<String, Object> target,
    int connected,
    long sent,
    long acked,
    long refused,
    long failed,
    long skipped,
    long skippedBusy,
    long skippedLate,
    double durationS,
    double ackedPerS,
    Percentiles ackLatencyMs,
    Percentiles alarmLatencyMs,
    Percentiles annunciationLatencyMs,
    Probe probe,
    Map<String, Long> byTransport,
    double simulatorCpuS) {

  /**
   * The publish-to-alarm probe.
   *
   * @param devices probe gas alarm ids
   * @param intervalMs one device's cycle (crossing, clear half-way), ms
   * @param crossings 25 %LEL crossings published
   * @param samples crossings whose alarm event arrived (the publish-to-alarm samples)
   * @param unmatched raising alarm events of a probe device that matched no crossing
   * @param annunciationSamples crossings whose annunciation arrived (the publish-to-annunciation
   *     samples)
   * @param annunciationUnmatched annunciations (raise / severity, no status) of a probe device
   *     that matched no crossing
   */
  public record Probe(List<String> devices, long intervalMs, long crossings, long samples, long unmatched,
      long annunciationSamples, long annunciationUnmatched) {}
}
