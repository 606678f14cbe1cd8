// user_metrics from Node.js with node-postgres: ingest a batch, read its summary,
// catch an invalid event in raise mode, retry what is safe to retry, print a report.
//
//   USER_METRICS_DSN=postgresql://metrics_app:secret@127.0.0.1:5432/metrics node ingest_example.js
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

// Deadlock, serialization failure, lock timeout: PostgreSQL rolled the whole
// transaction back, so running it again is safe. ingest_metrics is idempotent
// per event_id: an event the first attempt did store counts as a duplicate.
const RETRYABLE = new Set(['40P01', '40001', '55P03']);
const ATTEMPTS = 5;

// One valid event and one with a negative talked_time: in raise mode the call
// fails at index 1 and stores neither.
const BAD_BATCH = [
  { event_id: 'raise-1', user: { email: 'eve@example.com' },
    session: { id: 's-raise', started_at: '2026-11-23T09:00:00Z' },
    metrics: { talked_time: 10 } },
  { event_id: 'raise-2', user: { email: 'eve@example.com' },
    session: { id: 's-raise', started_at: '2026-11-23T09:00:00Z' },
    metrics: { talked_time: -5 } },
];

// One ingest_metrics call in its own transaction, retried on the codes above.
async function ingest(client, events, onError = 'quarantine') {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query('BEGIN');
      // The batch goes as a parameter (JSON text), never spliced into the SQL.
      const { rows } = await client.query(
        'SELECT user_metrics.ingest_metrics($1::jsonb, $2) AS summary',
        [JSON.stringify(events), onError],
      );
      await client.query('COMMIT');
      return rows[0].summary;
    } catch (err) {
      await client.query('ROLLBACK');
      if (!RETRYABLE.has(err.code) || attempt === ATTEMPTS) throw err;
      // Exponential backoff with jitter, so that the two sides of a deadlock
      // do not collide again.
      await sleep(Math.random() * 50 * 2 ** attempt);
    }
  }
}

async function main() {
  const path = process.env.USER_METRICS_EVENTS ?? '../../sample/events.json';
  const events = JSON.parse(await readFile(path, 'utf8'));

  const client = new pg.Client({ connectionString: process.env.USER_METRICS_DSN });
  await client.connect();
  try {
    const summary = await ingest(client, events);
    console.log(`summary: accepted=${summary.accepted} duplicates=${summary.duplicates} ` +
                `rejected=${summary.rejected}`);
    for (const e of summary.errors) {
      console.log(`error: index=${e.index} code=${e.code} message=${e.message}`);
    }

    try {
      await ingest(client, BAD_BATCH, 'raise');
      throw new Error('raise mode accepted an invalid event');
    } catch (err) {
      if (err.code !== '22023') throw err; // invalid_parameter_value
      console.log(`raise: sqlstate=${err.code} message=${err.message}`);
      console.log(`detail: ${err.detail}`);
    }

    // numeric and bigint arrive as strings: exact, with the digits PostgreSQL prints.
    const report = await client.query(
      'SELECT email, session_count, total_talked_time FROM user_metrics.aggregate_user_metrics()',
    );
    for (const r of report.rows) {
      console.log(`report: ${r.email} sessions=${r.session_count} talked_time=${r.total_talked_time}`);
    }
  } finally {
    await client.end();
  }
}

await main();
