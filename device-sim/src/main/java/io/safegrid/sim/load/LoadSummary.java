package io.safegrid.sim.load;

import java.util.Map;

/**
 * What {@code sim load} measured; written as JSON to {@code --summary}.
 *
 * @param target what was asked: devices, rate, qos, duration, payload bytes, mix, URIs
 * @param connected devices that connected
 * @param sent messages handed to the client libraries
 * @param acked messages acknowledged (PUBACK / PUBCOMP / CoAP 2.04; QoS 0: written)
 * @param refused messages the far end said no to (CoAP 4.xx/5.xx, MQTT 5 reason >= 0x80)
 * @param failed messages with no answer (connection lost, timeout)
 * @param skipped publishes not attempted because the device was disconnected or had too many
 *     messages in flight (back-pressure)
 * @param ackedPerS acked messages per second of publishing
 * @param ackLatencyMs publish to acknowledgement (PUBACK latency), ms
 * @param alarmLatencyMs publish of the probe's crossing to its alarm on {@code /api/live}, ms;
 *     null when no API was given
 * @param byTransport acked messages per transport (v3, v5, coap)
 */
public record LoadSummary(
    Map<String, Object> target,
    int connected,
    long sent,
    long acked,
    long refused,
    long failed,
    long skipped,
    double durationS,
    double ackedPerS,
    Percentiles ackLatencyMs,
    Percentiles alarmLatencyMs,
    Map<String, Long> byTransport) {}
