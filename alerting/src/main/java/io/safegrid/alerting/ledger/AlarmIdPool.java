package io.safegrid.alerting.ledger;

import java.util.ArrayDeque;

/**
 * Alarm ids taken from {@code alarms_id_seq} ahead of time, in blocks, so that registering a new
 * alarm needs no {@code INSERT ... RETURNING id} round trip of its own: the ledger knows the id
 * before the row exists and sends the {@code INSERT} with the transaction's last round trip. A
 * block is fetched with the lock-and-select round trip of a raise when fewer than {@link #LOW}
 * ids are left ({@link #REFILL}), so it costs no round trip either. Thread-safe.
 *
 * <p>Ids left in the pool when the gateway stops are never used (a gap of at most {@link #BLOCK}
 * ids a restart, like the ids a rolled-back transaction burns); ids of one ledger increase, but
 * two gateways on one database interleave theirs, so an alarm's id says nothing about its age
 * against another gateway's alarms (the ledger orders by time where it matters).
 */
final class AlarmIdPool {
  /** Ids fetched at a time. */
  static final int BLOCK = 32;
  /** A raise fetches a block when fewer ids than this are left. */
  static final int LOW = 8;
  /** One statement: {@link #BLOCK} new ids, one row each, ascending. */
  static final String REFILL = "SELECT nextval('alarms_id_seq') FROM generate_series(1, " + BLOCK + ")";

  private final ArrayDeque<Long> ids = new ArrayDeque<>(2 * BLOCK);

  /** Whether a raise should fetch a block with its lock-and-select round trip. */
  synchronized boolean low() {
    return ids.size() < LOW;
  }

  /** Adds an id fetched with {@link #REFILL}. */
  synchronized void add(long id) {
    ids.addLast(id);
  }

  /** The next id, or -1 when the pool is empty. */
  synchronized long take() {
    Long id = ids.pollFirst();
    return id == null ? -1 : id;
  }
}
