-- Schema 13: logins refused after repeated failures are counted from the audit trail (the
-- failures since the account's last success or password reset); this index finds them without
-- reading the whole trail.
CREATE INDEX audit_log_action_entity ON audit_log (action, entity_id, seq);
