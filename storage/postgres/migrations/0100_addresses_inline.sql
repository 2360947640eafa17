-- casefile_addresses, as 0065 wrote it, is a SQL function whose body is a
-- sub-SELECT: PostgreSQL cannot inline it, so every row inserted into
-- documents (an email, each attachment) ran it as a function of its own,
-- planning its query again for each INSERT: about 0.35 ms of the database's
-- CPU a row, a third of the row's cost. The same text, written as one
-- expression (the address list three times instead of once in a
-- sub-SELECT), is inlined into the documents.search generated column. Its
-- result is the same for every input, so the stored vectors stay right and
-- nothing is recomputed (TestAddressesInlinedAndUnchanged).
CREATE OR REPLACE FUNCTION casefile_addresses(email jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    (coalesce(email->>'from', '') || ' ' || coalesce((email->'to')::text, '') || ' ' || coalesce((email->'cc')::text, '')) || ' ' ||
    translate(coalesce(email->>'from', '') || ' ' || coalesce((email->'to')::text, '') || ' ' || coalesce((email->'cc')::text, ''), '@', ' ') || ' ' ||
    translate(coalesce(email->>'from', '') || ' ' || coalesce((email->'to')::text, '') || ' ' || coalesce((email->'cc')::text, ''), '@._-+', '     ');
