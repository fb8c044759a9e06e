package io.safegrid.model;

import java.util.Objects;

/**
 * One measured value of one device: the unit of telemetry everywhere in SafeGrid.
 *
 * <p>Shape: {@code (deviceId, metric, timeMillis, value, seq)}. The unit is in the metric name's
 * suffix, as in the public contract: {@code _lel} %LEL, {@code _m} metres, {@code _mm}
 * millimetres, {@code _pct} percent, {@code _v} volts, {@code _ppm} parts per million. A reading is
 * identified by {@code (deviceId, metric, timeMillis)}: the database stores one row per identity.
 *
 * @param deviceId device id, {@code [a-z0-9][a-z0-9-]{0,63}}
 * @param metric metric name with unit suffix, e.g. {@code gas_lel}
 * @param timeMillis event time in epoch milliseconds (UTC), as sent by the device or receive time
 * @param value a finite number (never NaN or infinite)
 * @param seq the device's per-device sequence number, or {@link #NO_SEQ} when the device sent none
 */
public record Reading(String deviceId, String metric, long timeMillis, double value, long seq) {

  /** The value of {@link #seq} when the device sent no sequence number. */
  public static final long NO_SEQ = -1L;

  /**
   * @throws IllegalArgumentException when the value is NaN or infinite
   * @throws NullPointerException when deviceId or metric is null
   */
  public Reading {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(metric, "metric");
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("value must be finite: " + value);
    }
  }

  /** A reading without a sequence number. */
  public static Reading of(String deviceId, String metric, long timeMillis, double value) {
    return new Reading(deviceId, metric, timeMillis, value, NO_SEQ);
  }
}
