package io.safegrid.schema;

/**
 * The database cannot be brought to SafeGrid's schema: TimescaleDB is missing, the server is
 * unreachable, or a migration failed. The message says which and what to do; the gateway
 * refuses to start with it.
 */
public class SchemaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do
     * @param cause   the underlying error, or null
     */
    public SchemaException(String message, Throwable cause) {
        super(message, cause);
    }
}
