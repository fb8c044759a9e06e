-- SafeGrid core schema (contract "Storage"): devices, readings, device_events, dead_letters.
-- Valid on both TimescaleDB builds (licence 'apache' and 'timescale'); the licence-dependent
-- extras (compression, retention policy, continuous aggregate) are in the Java migration
-- io.safegrid.schema.TimescaleLicenceExtras (version 1.1).

-- The registry of devices: one row per device of the site (config/dongnan.yaml), upserted by the
-- gateway at start. Secrets are NOT stored here (they stay in the config).
CREATE TABLE devices (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    type        text NOT NULL,            -- gas_alarm | fire_panel | river_gauge
    community   text,
    compound    text,
    building    text,
    unit        text,
    name        text,
    premises    text,                     -- e.g. the restaurant a gas alarm is installed in
    meta        jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Telemetry: one row per (device, metric, time). Units are in the metric name's suffix
-- (_lel %LEL, _m metres, _mm, _pct, _v, _ppm). A duplicate (device_id, metric, time) is stored
-- once: writers use ON CONFLICT (device_id, metric, time) DO NOTHING.
CREATE TABLE readings (
    time       timestamptz      NOT NULL,
    device_id  text             NOT NULL,
    metric     text             NOT NULL,
    value      double precision NOT NULL,
    CONSTRAINT readings_device_metric_time_key UNIQUE (device_id, metric, time)
);
-- 1-day chunks: ~117 gas alarms + panels + gauges at one reading a minute stay small per chunk,
-- and retention (drop_chunks) works at day granularity.
SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'));

-- Events of fire panels and alarms (fire, fault, supervisory, shield, reset, mains_fault, ...).
-- A plain table, not a hypertable: events are rare (a few per panel per day), the alarm ledger
-- refers to them, and they are kept as records (no drop_chunks). NULLS NOT DISTINCT so that an
-- event without zone/point is also de-duplicated when a device resends it.
CREATE TABLE device_events (
    id           bigserial PRIMARY KEY,
    time         timestamptz NOT NULL,
    device_id    text        NOT NULL,
    event        text        NOT NULL,
    zone         integer,
    point        integer,
    text         text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_events_dedup_key UNIQUE NULLS NOT DISTINCT (device_id, time, event, zone, point)
);
CREATE INDEX device_events_time_idx ON device_events (time DESC);

-- What could not be decoded or stored: kept with the reason, never dropped silently
-- (contract "Delivery promise").
CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    device_id    text,                    -- null when the sender is unknown
    source       text        NOT NULL,    -- e.g. 'mqtt', 'coap', 'coaps', 'spool'
    reason       text        NOT NULL,
    payload      bytea
);
CREATE INDEX dead_letters_received_at_idx ON dead_letters (received_at DESC);
