/**
 * The engine: per-device state ({@link io.safegrid.rules.engine.DeviceRuleState}), event-time
 * ordering, the deadline queue for inactivity and debounce, flags for suspicious timestamps,
 * restart ({@link io.safegrid.rules.engine.RestoreSnapshot}) and sharding by device id ({@link
 * io.safegrid.rules.engine.ShardedRuleEngine}).
 */
package io.safegrid.rules.engine;
