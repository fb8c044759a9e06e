package io.safegrid.gateway.storage;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh database per test class on the test server (SAFEGRID_TEST_DB_URL, default the local
 * TimescaleDB), with the core tables. Stand-in until io.safegrid.testing.TestDatabase is on main.
 */
final class StorageTestDb implements BeforeAllCallback, AfterAllCallback {
  static final String SERVER = System.getenv().getOrDefault("SAFEGRID_TEST_DB_URL",
      "jdbc:postgresql://127.0.0.1:55432/safegrid");
  static final String USER = "safegrid";
  static final String PASSWORD = "safegrid";

  static final String DDL = """
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE devices (id text PRIMARY KEY, type text NOT NULL);
      CREATE TABLE readings (
          time timestamptz NOT NULL, device_id text NOT NULL, metric text NOT NULL,
          value double precision NOT NULL,
          CONSTRAINT readings_device_metric_time_key UNIQUE (device_id, metric, time));
      SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'));
      CREATE TABLE device_events (
          id bigserial PRIMARY KEY, time timestamptz NOT NULL, device_id text NOT NULL,
          event text NOT NULL, zone integer, point integer, text text,
          received_at timestamptz NOT NULL DEFAULT now(),
          CONSTRAINT device_events_dedup_key
              UNIQUE NULLS NOT DISTINCT (device_id, time, event, zone, point));
      CREATE TABLE dead_letters (
          id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(),
          device_id text, source text NOT NULL, reason text NOT NULL, payload bytea);
      """;

  private String name;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    name = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
    try (Connection c = DriverManager.getConnection(SERVER, USER, PASSWORD);
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      st.execute("CREATE DATABASE " + name);
    }
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.execute(DDL);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try (Connection c = DriverManager.getConnection(SERVER, USER, PASSWORD);
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }

  String jdbcUrl() {
    int slash = SERVER.lastIndexOf('/');
    return SERVER.substring(0, slash + 1) + name;
  }

  String name() {
    return name;
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), USER, PASSWORD);
  }

  long count(String sql) throws SQLException {
    try (Connection c = connect(); Statement st = c.createStatement();
        var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
