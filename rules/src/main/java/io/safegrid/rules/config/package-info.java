/**
 * Rule configuration: the {@link io.safegrid.rules.config.RuleBook} (parameters per device type,
 * Dongnan defaults, per-device overrides), compiled {@link io.safegrid.rules.config.RuleSet}s,
 * and what the engine knows of a device ({@link io.safegrid.rules.config.DeviceProfile}).
 */
package io.safegrid.rules.config;
