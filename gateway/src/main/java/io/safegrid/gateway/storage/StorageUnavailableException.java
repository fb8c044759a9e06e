package io.safegrid.gateway.storage;

/**
 * The database could not take a batch now (unreachable, too slow, or refusing for a reason that is
 * not the rows' fault). The batch goes to the spool; callers of the store never see this.
 */
final class StorageUnavailableException extends Exception {
  StorageUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
