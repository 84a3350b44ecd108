-- Only activities of verified organisations count. An import with --create-orgs is an
-- operator's act: the organisations it created were verified by it, so they are marked so
-- (with an audit entry naming the same file) instead of sitting among pending registrations.
INSERT INTO audit_log (at, actor, entity, entity_id, action, reason)
SELECT strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), NULL, 'organisation', o.id, 'verify', a.reason
FROM organisations o
JOIN audit_log a ON a.entity = 'organisation' AND a.entity_id = o.id AND a.action = 'create'
WHERE o.status = 'pending' AND a.reason LIKE 'imported from %';

UPDATE organisations SET status = 'verified'
WHERE status = 'pending' AND id IN (
    SELECT entity_id FROM audit_log
    WHERE entity = 'organisation' AND action = 'create' AND reason LIKE 'imported from %'
);

-- Progress reads every approved activity of a plan with its organisation: the covering index
-- gains the organisation and the id (the drill-down lists exactly what counted).
DROP INDEX activities_counted;
CREATE INDEX activities_counted
    ON activities (plan_id, status, indicator_id, date, quantity, cso_participants,
                   council_participants, organisation_id)
    WHERE duplicate_of IS NULL;
