/**
 * The SafeGrid rule engine: pure Java, no I/O, clock injected.
 *
 * <p>Input: {@link io.safegrid.model.Reading} and {@link io.safegrid.model.DeviceEvent}; output:
 * {@link io.safegrid.model.AlarmTransition} (raise, severity change, clear, with message and
 * evidence) through a {@link io.safegrid.rules.TransitionSink}, and {@link
 * io.safegrid.rules.engine.Flag}s for suspicious input through a {@link
 * io.safegrid.rules.engine.FlagSink}.
 *
 * <p>Sub-packages, one idea each: {@code config} (rule book per device type, device profiles and
 * places), {@code threshold} (levels, hysteresis, debounce), {@code rate} (rate of change over a
 * window), {@code event} (panel events and device state codes), {@code inactivity} (device
 * offline), {@code combination} (several alarms in one place), {@code engine} (per-device state,
 * ordering, the deadline queue, sharding, restore).
 *
 * <h2>Wiring it in the gateway</h2>
 *
 * <pre>{@code
 * RuleBook book = RuleBook.fromSite(site);               // rules: section over Dongnan defaults
 * book.unknownParameters().forEach(k -> log.warn("unknown rule parameter {}", k));
 * ShardedRuleEngine rules = new ShardedRuleEngine(book, DeviceDirectory.of(site),
 *     System::currentTimeMillis, Runtime.getRuntime().availableProcessors(),
 *     transition -> ledgerQueue.offer(transition),       // thread-safe, quick
 *     flag -> flagCounter(flag.kind().reason()).increment());
 * rules.restore(new RestoreSnapshot(openAlarms, lastSeenByDevice, lastHourOfReadings)).join();
 * // after each message is durable (stored or spooled):
 * rules.onReadings(readings);   rules.onEvent(event);
 * // one scheduled task, e.g. every 250 ms:
 * rules.advanceTo(System.currentTimeMillis());
 * // on shutdown:
 * rules.close();
 * }</pre>
 */
package io.safegrid.rules;
