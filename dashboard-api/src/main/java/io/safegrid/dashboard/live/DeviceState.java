package io.safegrid.dashboard.live;

/**
 * A device's connection state as the gateway last reported it to the {@link LiveFeed}.
 *
 * @param deviceId the device
 * @param online true after CONNECT / a message, false after DISCONNECT, LWT or inactivity timeout
 * @param sinceMillis when it changed, epoch milliseconds
 * @param reason why, e.g. {@code connect}, {@code disconnect}, {@code lwt}, {@code
 *     inactivity_timeout}, or null
 */
public record DeviceState(String deviceId, boolean online, long sinceMillis, String reason) {}
