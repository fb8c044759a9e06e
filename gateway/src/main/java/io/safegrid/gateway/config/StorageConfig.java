package io.safegrid.gateway.config;

/**
 * Durable storage settings.
 *
 * @param spoolDir local spool directory used while the database is unreachable (relative paths
 *     are relative to the working directory)
 * @param spoolMaxBytes spool size bound, bytes; when full the store pushes back
 * @param batchSize readings per database batch
 * @param batchWindowMs how long a batch may wait to fill, milliseconds
 */
public record StorageConfig(String spoolDir, long spoolMaxBytes, int batchSize, int batchWindowMs) {}
