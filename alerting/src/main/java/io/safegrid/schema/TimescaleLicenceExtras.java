package io.safegrid.schema;

import java.sql.Statement;
import java.time.Duration;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flyway migration 1.1: the TimescaleDB features that only the community ({@code timescale})
 * licence offers, added after {@code V1__core.sql}. With the {@code apache} licence it does nothing
 * (the gateway then runs retention with {@code drop_chunks} itself and serves downsampling with
 * {@code time_bucket}), so the SQL migrations stay valid on both builds.
 *
 * <p>With licence {@code timescale}:
 * <ul>
 *   <li>compression of {@code readings}, segment by {@code device_id, metric}, order by
 *       {@code time DESC}; a compression policy for chunks older than 7 days;</li>
 *   <li>a retention policy dropping {@code readings} chunks older than the configured retention;</li>
 *   <li>continuous aggregate {@code readings_1m}: per device, metric and 1-minute
 *       {@code time_bucket}: {@code bucket, device_id, metric, min, max, avg, last, n}, refreshed
 *       every minute for the last hour.</li>
 * </ul>
 * Runs outside a transaction: {@code CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous)}
 * cannot run inside one. Every statement is idempotent ({@code if_not_exists}), so a partly failed
 * run can be repaired and repeated.
 */
final class TimescaleLicenceExtras implements JavaMigration {

    private static final Logger log = LoggerFactory.getLogger(TimescaleLicenceExtras.class);

    private final String licence;
    private final Duration retention;

    TimescaleLicenceExtras(String licence, Duration retention) {
        this.licence = licence;
        this.retention = retention;
    }

    @Override
    public MigrationVersion getVersion() {
        return MigrationVersion.fromVersion("1.1");
    }

    @Override
    public String getDescription() {
        return "timescale licence extras";
    }

    @Override
    public Integer getChecksum() {
        // Same checksum on both licences: the migration is "applied" either way.
        return 11;
    }

    @Override
    public boolean canExecuteInTransaction() {
        return false;
    }

    @Override
    public void migrate(Context context) throws Exception {
        if (!SchemaMigrator.Licence.TIMESCALE.equals(licence)) {
            log.info("TimescaleDB licence '{}': no compression, retention policy or continuous aggregate;"
                    + " the gateway's RetentionJob drops old chunks", licence);
            return;
        }
        long days = retention.toDays();
        try (Statement st = context.getConnection().createStatement()) {
            st.execute("ALTER TABLE readings SET (timescaledb.compress,"
                    + " timescaledb.compress_segmentby = 'device_id, metric',"
                    + " timescaledb.compress_orderby = 'time DESC')");
            st.execute("SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => true)");
            st.execute("SELECT add_retention_policy('readings', INTERVAL '" + days + " days', if_not_exists => true)");
            st.execute("CREATE MATERIALIZED VIEW IF NOT EXISTS readings_1m WITH (timescaledb.continuous) AS"
                    + " SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, device_id, metric,"
                    + " min(value) AS min, max(value) AS max, avg(value) AS avg, last(value, time) AS last,"
                    + " count(*) AS n FROM readings GROUP BY bucket, device_id, metric WITH NO DATA");
            st.execute("SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '1 hour',"
                    + " end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute',"
                    + " if_not_exists => true)");
        }
        log.info("TimescaleDB licence 'timescale': compression, {}-day retention policy and readings_1m added", days);
    }
}
