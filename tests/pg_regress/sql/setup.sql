-- Run once per fresh regression database.
CREATE EXTENSION user_metrics;
