-- forget_user. $1: the e-mail in canonical form. Users whose stored address holds
-- it but is another text, such as "mailto:ana@example.com" or "<ana@example.com>",
-- which ingestion accepted until 0.4.0. Stored addresses are in canonical form, so
-- a plain substring search finds every candidate; forget_user keeps those that the
-- current rule refuses and that mention the address (contract::mention).
SELECT u.user_key, u.email
FROM user_metrics.users AS u
WHERE strpos(u.email, $1::text) > 0
  AND u.email <> $1::text
