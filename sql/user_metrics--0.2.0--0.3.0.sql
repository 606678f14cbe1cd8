-- user_metrics 0.2.0 -> 0.3.0. Run by ALTER EXTENSION user_metrics UPDATE. Brings a
-- 0.2.0 installation, with its data, to exactly what CREATE EXTENSION makes for
-- 0.3.0 (the upgrade test compares the two catalogs). Every constraint is named and
-- every change is a statement of its own.

-- == Safety checks =============================================================

-- == Data: exact totals, one identity per person, exact counts =================

-- == Backups and replication ===================================================

-- == Roles and privileges ======================================================
