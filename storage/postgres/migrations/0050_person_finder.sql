-- The person finder: names matched in part, whatever their case and accents.
-- fold() lower-cases and takes the accents off Latin letters (translate is
-- immutable, unlike unaccent, so it can make a stored column); the query folds
-- what is typed the same way.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION casefile_fold(s text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    translate(lower(s),
        'áàâäãåāăąǎçćĉċčďđðéèêëēĕėęěĝğġģĥħíìîïĩīĭįıĵķĺļľŀłñńņňŉóòôöõøōŏőǒŕŗřśŝşšßţťŧþúùûüũūŭůűųǔŵýÿŷźżž',
        'aaaaaaaaaacccccdddeeeeeeeeegggghhiiiiiiiiijklllllnnnnnoooooooooorrrsssssttttuuuuuuuuuuuwyyyzzz');

ALTER TABLE persons ADD COLUMN name_fold text GENERATED ALWAYS AS
    (casefile_fold(coalesce(given_name, '') || ' ' || coalesce(family_name, ''))) STORED;
CREATE INDEX persons_name_fold ON persons USING gin (name_fold gin_trgm_ops);
CREATE INDEX persons_ref_fold ON persons (lower(external_ref) text_pattern_ops);
CREATE INDEX persons_date_of_birth ON persons (date_of_birth);
