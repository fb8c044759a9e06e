package io.safegrid.sim.site;

/**
 * One device the simulator plays, as the site file describes it.
 *
 * @param id device id ({@code [a-z0-9][a-z0-9-]{0,63}}), also the MQTT client id and username
 *     and the DTLS PSK identity
 * @param type {@code gas_alarm}, {@code fire_panel} or {@code river_gauge}
 * @param secret the device's secret (MQTT password, CoAP option 65003, DTLS PSK key)
 * @param name human name, e.g. "Restaurant 01"
 * @param premises kind of place, e.g. {@code restaurant}, {@code compound}, {@code river}
 * @param compound the residential compound id, or null
 * @param reportIntervalS seconds between timed reports (heartbeat)
 */
public record SimDevice(
    String id,
    String type,
    String secret,
    String name,
    String premises,
    String compound,
    int reportIntervalS) {}
