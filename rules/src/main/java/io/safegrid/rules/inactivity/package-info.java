/**
 * Inactivity timeout: no message from a device for {@code offline_after_intervals} times its
 * report interval raises {@code device-offline}; the next message clears it. Driven by the
 * engine's deadline queue, not a periodic scan.
 */
package io.safegrid.rules.inactivity;
