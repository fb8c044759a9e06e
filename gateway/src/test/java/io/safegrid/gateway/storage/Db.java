package io.safegrid.gateway.storage;

import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Small SQL helpers for the storage tests. */
final class Db {
  private Db() {}

  /** The single number {@code sql} selects. */
  static long count(TestDatabase db, String sql) throws SQLException {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static void execute(TestDatabase db, String sql) throws SQLException {
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
