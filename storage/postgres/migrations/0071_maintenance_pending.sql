-- Tables whose dead row versions (the content a committed removal or
-- destruction cleared) are still to be vacuumed, and whether their search
-- indexes are to be rebuilt. The service's role owns nothing, and on
-- PostgreSQL 15 only a table's owner may VACUUM or REINDEX it: the service
-- records the need here, and `casefile maintain` (as the owner) does it.
CREATE TABLE maintenance_pending (
    table_name   text PRIMARY KEY,
    reindex      boolean NOT NULL DEFAULT false,
    requested_at timestamptz NOT NULL DEFAULT now()
);
