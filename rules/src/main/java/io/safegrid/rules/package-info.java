/**
 * The SafeGrid rule engine: pure Java, no I/O, clock injected.
 *
 * <p>Input: {@link io.safegrid.model.Reading} and {@link io.safegrid.model.DeviceEvent}; output:
 * {@link io.safegrid.model.AlarmTransition} (raise, severity change, clear) through a {@link
 * io.safegrid.rules.TransitionSink}, and {@link io.safegrid.rules.engine.Flag}s for suspicious
 * input through a {@link io.safegrid.rules.engine.FlagSink}.
 *
 * <p>Sub-packages, one idea each: {@code config} (rule book per device type, device profiles and
 * places), {@code threshold} (levels, hysteresis, debounce), {@code rate} (rate of change over a
 * window), {@code event} (panel events and device state codes), {@code inactivity} (device
 * offline), {@code combination} (several alarms in one place), {@code engine} (per-device state,
 * ordering, the deadline queue, sharding, restore).
 */
package io.safegrid.rules;
