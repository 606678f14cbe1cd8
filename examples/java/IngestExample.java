// user_metrics from Java with JDBC (the PostgreSQL JDBC driver): ingest a batch,
// read its summary, catch an invalid event in raise mode, retry what is safe to
// retry, print a report.
//
//   javac -cp /usr/share/java/postgresql.jar -d build IngestExample.java
//   USER_METRICS_DSN=postgresql://metrics_app:secret@127.0.0.1:5432/metrics \
//       java -cp build:/usr/share/java/postgresql.jar IngestExample

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.util.PSQLException;

public final class IngestExample {
    // Deadlock, serialization failure, lock timeout: PostgreSQL rolled the whole
    // transaction back, so running it again is safe. ingest_metrics is idempotent
    // per event_id: an event the first attempt did store counts as a duplicate.
    private static final Set<String> RETRYABLE = Set.of("40P01", "40001", "55P03");
    private static final int ATTEMPTS = 5;

    // One valid event and one with a negative talked_time: in raise mode the call
    // fails at index 1 and stores neither.
    private static final String BAD_BATCH = """
        [{"event_id": "raise-1", "user": {"email": "eve@example.com"},
          "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"},
          "metrics": {"talked_time": 10}},
         {"event_id": "raise-2", "user": {"email": "eve@example.com"},
          "session": {"id": "s-raise", "started_at": "2026-11-23T09:00:00Z"},
          "metrics": {"talked_time": -5}}]
        """;

    // The JDK has no JSON parser: PostgreSQL takes the summary apart, one row per
    // error (one row of NULLs when there is none). The volatile call in the CTE
    // runs once.
    private static final String INGEST = """
        WITH c AS (SELECT user_metrics.ingest_metrics(?, ?) AS s)
        SELECT s->>'accepted', s->>'duplicates', s->>'rejected',
               e->>'index', e->>'code', e->>'message'
        FROM c LEFT JOIN LATERAL jsonb_array_elements(s->'errors') AS e ON true
        """;

    private IngestExample() {}

    /** One ingest_metrics call in its own transaction, retried on the codes above. */
    static String ingest(Connection conn, String events, String onError)
            throws SQLException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try (PreparedStatement st = conn.prepareStatement(INGEST)) {
                // Types.OTHER: the server reads the JSON text as the jsonb parameter.
                st.setObject(1, events, Types.OTHER);
                st.setString(2, onError);
                StringBuilder out = new StringBuilder();
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        if (out.isEmpty()) {
                            out.append("summary: accepted=").append(rs.getString(1))
                               .append(" duplicates=").append(rs.getString(2))
                               .append(" rejected=").append(rs.getString(3)).append('\n');
                        }
                        if (rs.getString(4) != null) {
                            out.append("error: index=").append(rs.getString(4))
                               .append(" code=").append(rs.getString(5))
                               .append(" message=").append(rs.getString(6)).append('\n');
                        }
                    }
                }
                conn.commit();
                return out.toString();
            } catch (SQLException e) {
                conn.rollback();
                if (!RETRYABLE.contains(e.getSQLState()) || attempt == ATTEMPTS) {
                    throw e;
                }
                // Exponential backoff with jitter, so that the two sides of a
                // deadlock do not collide again.
                Thread.sleep(ThreadLocalRandom.current().nextLong(50L << attempt));
            }
        }
    }

    /** postgresql://user:password@host:port/db, as libpq takes it, to JDBC's form. */
    static Connection connect(String dsn) throws SQLException {
        URI uri = URI.create(dsn);
        Properties props = new Properties();
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            props.setProperty("user", URLDecoder.decode(parts[0], StandardCharsets.UTF_8));
            if (parts.length == 2) {
                props.setProperty("password", URLDecoder.decode(parts[1], StandardCharsets.UTF_8));
            }
        }
        int port = uri.getPort() == -1 ? 5432 : uri.getPort();
        return DriverManager.getConnection(
            "jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getRawPath(), props);
    }

    public static void main(String[] args) throws Exception {
        String path = System.getenv().getOrDefault("USER_METRICS_EVENTS", "../../sample/events.json");
        String events = Files.readString(Path.of(path));

        try (Connection conn = connect(System.getenv("USER_METRICS_DSN"))) {
            conn.setAutoCommit(false);
            System.out.print(ingest(conn, events, "quarantine"));

            try {
                ingest(conn, BAD_BATCH, "raise");
                throw new IllegalStateException("raise mode accepted an invalid event");
            } catch (PSQLException e) {
                if (!"22023".equals(e.getSQLState())) { // invalid_parameter_value
                    throw e;
                }
                System.out.println("raise: sqlstate=" + e.getSQLState()
                    + " message=" + e.getServerErrorMessage().getMessage());
                System.out.println("detail: " + e.getServerErrorMessage().getDetail());
            }

            // numeric read as its text: exact, with the digits PostgreSQL prints.
            try (PreparedStatement st = conn.prepareStatement(
                    "SELECT email, session_count, total_talked_time"
                    + " FROM user_metrics.aggregate_user_metrics()");
                 ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    System.out.println("report: " + rs.getString(1) + " sessions=" + rs.getLong(2)
                        + " talked_time=" + rs.getBigDecimal(3).toPlainString());
                }
            }
            conn.commit();
        }
    }
}
