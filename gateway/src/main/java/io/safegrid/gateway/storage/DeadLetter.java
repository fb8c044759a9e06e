package io.safegrid.gateway.storage;

/**
 * One row of {@code dead_letters}: something that could not be decoded or stored, kept with the
 * reason (contract "Delivery promise").
 *
 * @param receivedAtMillis when it was received, epoch milliseconds (UTC)
 * @param deviceId the device, or null when unknown
 * @param source where it came from, e.g. {@code mqtt:devices/gas-001/telemetry}, or {@code
 *     storage} for a row the database refused
 * @param reason short human reason
 * @param payload the raw bytes, or null
 */
record DeadLetter(
    long receivedAtMillis, String deviceId, String source, String reason, byte[] payload) {}
