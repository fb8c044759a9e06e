-- SafeGrid alerting: the alarm ledger (register -> write-off), its history, and the notification
-- outbox. Owner: alerting (issue 7). Times are written by the service from its injected clock.

CREATE TABLE alarms (
  id                 bigserial PRIMARY KEY,
  device_id          text        NOT NULL,
  rule_id            text        NOT NULL,
  severity           text        NOT NULL CHECK (severity IN ('warning', 'minor', 'major', 'critical')),
  state              text        NOT NULL CHECK (state IN ('active_unacked', 'active_acked',
                                                           'cleared_unacked', 'cleared_acked', 'closed')),
  count              integer     NOT NULL DEFAULT 1 CHECK (count >= 1),
  message            text,
  evidence           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  raised_at          timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  acknowledged_by    text,
  acknowledged_at    timestamptz,
  cleared_at         timestamptz,
  closed_at          timestamptz,
  close_note         text,
  -- escalation: index into the device's grid chain (0 = unit lead household .. 4 = sub-district),
  -- number of notification steps taken (part of every idempotency key), next deadline (null: none)
  escalation_level   integer     NOT NULL DEFAULT 0,
  escalation_step    integer     NOT NULL DEFAULT 0,
  next_escalation_at timestamptz,
  CONSTRAINT alarms_closed_has_note CHECK (state <> 'closed' OR (close_note IS NOT NULL AND btrim(close_note) <> ''))
);

-- One open alarm per (device, rule), enforced by the database as well as by the service.
CREATE UNIQUE INDEX alarms_one_open_per_device_rule ON alarms (device_id, rule_id) WHERE state <> 'closed';
CREATE INDEX alarms_device_rule_latest ON alarms (device_id, rule_id, id DESC);
CREATE INDEX alarms_state ON alarms (state);
CREATE INDEX alarms_escalation_due ON alarms (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

-- Every change of an alarm, written in the same transaction. id is the live stream's event id:
-- ids are assigned under a transaction-level advisory lock, so id order is commit order.
CREATE TABLE alarm_events (
  id         bigserial PRIMARY KEY,
  alarm_id   bigint      NOT NULL REFERENCES alarms (id),
  type       text        NOT NULL,
  from_state text,
  to_state   text        NOT NULL,
  actor      text        NOT NULL,
  note       text,
  at         timestamptz NOT NULL,
  details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  alarm      jsonb       NOT NULL  -- the alarm as it was right after this change
);
CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, id);

-- Notifications to deliver, written in the same transaction as the alarm change (at least once).
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  idempotency_key text        NOT NULL UNIQUE,
  alarm_id        bigint      REFERENCES alarms (id),
  channel         text        NOT NULL,   -- 'mqtt' or 'webhook:<name>'
  recipient       text        NOT NULL,   -- recipient group id
  payload         jsonb       NOT NULL,
  created_at      timestamptz NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  delivered_at    timestamptz,
  last_error      text,
  dead            boolean     NOT NULL DEFAULT false
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND NOT dead;
